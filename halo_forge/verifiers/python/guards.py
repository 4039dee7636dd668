"""Checks the harness applies inside the child while the program runs (see `harness`).

- `guard_audit_event`, an audit hook installed before the program runs (and impossible to
  remove): it refuses what would let a program rewrite the harness from inside the process.
- `verified_equal` / `verified_not_equal`, which the asserts of HumanEval and MBPP checks call
  for `==` and `!=` (the trusted side rewrites them, `units`): a comparison that
  the program's own `__eq__` would decide for a value of another class fails.
- `ModuleState`, a snapshot of every loaded module (the unittest or pytest machinery, `math`,
  `operator`, ...) taken before the program runs and put back before the tests do, undoing
  the program's patches of them.

Standard library only: this runs in the small fork server and its children.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any

_BLOCKED_EVENTS = frozenset(
    {
        "sys.settrace",
        "sys.setprofile",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "function.__new__",
        "code.__new__",
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.forkpty",
        "pty.spawn",
    }
)
_BLOCKED_IMPORTS = frozenset({"ctypes", "_ctypes"})
#: What a program must not open under /proc/<pid>/: another process's memory or descriptors
#: (the server's answer pipe is one of them).
_PROCESS_FILES = frozenset({"mem", "fd", "fdinfo", "map_files", "task", "root", "cwd", "environ"})


def guard_audit_event(event: str, args: tuple[Any, ...]) -> None:
    """Audit hook of the child: refuse the events that let a program rewrite the harness."""
    if (
        event in _BLOCKED_EVENTS
        or event.startswith("ctypes.")
        or (event == "import" and args[0] in _BLOCKED_IMPORTS)
        or (event == "object.__setattr__" and args[1] == "__code__")
        or (event == "open" and _reaches_into_a_process(args[0]))
    ):
        raise PermissionError(f"{event} is not allowed while a program is being verified")


def _reaches_into_a_process(path: Any) -> bool:
    """Whether `path` is a process's memory or descriptors (`/proc/<pid>/mem`, `.../fd/1`)."""
    if isinstance(path, int):
        return False
    try:
        absolute = os.path.join(os.getcwd(), os.fsdecode(path))
        parts = os.path.realpath(os.path.dirname(absolute)).split("/")
    except (TypeError, ValueError, OSError):
        return True
    parts.append(os.path.basename(absolute))
    return len(parts) > 3 and parts[1] == "proc" and not _PROCESS_FILES.isdisjoint(parts[3:])


#: Names under which the tests call `verified_equal` / `verified_not_equal`: the trusted side
#: rewrites each `==` / `!=` of an assert into these calls (`units`).
EQUAL_HELPER = "__verified_equal__"
NOT_EQUAL_HELPER = "__verified_not_equal__"
_PLAIN_TYPES = frozenset({int, float, complex, str, bytes, bool, type(None)})
_C_CALLABLES = (
    types.BuiltinFunctionType,
    types.MethodDescriptorType,
    types.MethodWrapperType,
    types.WrapperDescriptorType,
)
_STANDARD_LIBRARY = tuple({sys.base_prefix + os.sep, sys.prefix + os.sep})
_MEMBERS = (
    (dict, lambda value: [*dict.keys(value), *dict.values(value)]),
    (list, list.__iter__),
    (tuple, tuple.__iter__),
    (set, set.__iter__),
    (frozenset, frozenset.__iter__),
)
_SCAN_LIMIT = 100_000


def _writes_its_own_equality(cls: type) -> bool:
    """Whether the `__eq__` or `__ne__` that `cls` uses is the program's code (not C or stdlib).

    Read through `type`'s own descriptors, so a metaclass cannot disguise the class.
    """
    for name in ("__eq__", "__ne__"):
        for klass in type.__dict__["__mro__"].__get__(cls):
            attributes = type.__dict__["__dict__"].__get__(klass)
            if name not in attributes:
                continue
            method = attributes[name]
            trusted = isinstance(method, _C_CALLABLES) or (
                type(method) is types.FunctionType
                and method.__code__.co_filename.startswith(_STANDARD_LIBRARY)
            )
            if not trusted:
                return True
            break
    return False


def _classes_with_own_equality(value: Any) -> set[type] | None:
    """Program classes with their own equality in `value` and its containers (None: too big)."""
    found: set[type] = set()
    pending = [value]
    for _ in range(_SCAN_LIMIT):
        if not pending:
            return found
        item = pending.pop()
        cls = type(item)
        if cls in _PLAIN_TYPES:
            continue
        if _writes_its_own_equality(cls):
            found.add(cls)
        for container, members in _MEMBERS:
            if issubclass(cls, container):
                pending.extend(members(item))
                break
    return None


def _check_comparable(left: Any, right: Any) -> None:
    mine, theirs = _classes_with_own_equality(left), _classes_with_own_equality(right)
    if mine is None or mine != theirs:
        names = sorted(cls.__name__ for cls in (mine or set()) ^ (theirs or set()))
        raise AssertionError(
            f"the comparison would be decided by the program's own __eq__ ({', '.join(names)})"
        )


def verified_equal(left: Any, right: Any) -> bool:
    """`left == right`, but an error when only one side holds a program class with its own
    equality: an object whose `__eq__` says yes to everything fails the test (whatever the
    assert's polarity), while two objects of one program class compare as usual."""
    _check_comparable(left, right)
    return bool(left == right)


def verified_not_equal(left: Any, right: Any) -> bool:
    """`left != right`, under the same condition as `verified_equal`."""
    _check_comparable(left, right)
    return bool(left != right)


#: `ModuleState` prefix of every module: the standard library the tests call included.
EVERY_MODULE = ("",)


class ModuleState:
    """The attributes of some modules and of the classes they define, to put back later.

    Restoring undoes a program's patches of the test machinery (say
    `unittest.TestResult.addFailure = ...`) before the tests run.
    """

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        self.saved: list[tuple[Any, dict[str, Any]]] = []
        for name, module in list(sys.modules.items()):
            if module is None or not name.startswith(prefixes):
                continue
            self.saved.append((module, dict(vars(module))))
            for value in list(vars(module).values()):
                if isinstance(value, type) and value.__module__ == name:
                    self.saved.append((value, dict(vars(value))))

    def restore(self) -> None:
        for owner, attributes in self.saved:
            current = vars(owner)
            for key in [key for key in current if key not in attributes]:
                delattr(owner, key)
            for key, value in attributes.items():
                if current.get(key) is not value:
                    setattr(owner, key, value)
