"""The trusted harness: what a forked, confined child runs to execute one program and its tests.

The fork server (`fork_server.py`) forks one child per sample; the child runs the
program, then each test, and reports every test's outcome as a *record* on a pipe. Verdicts
come only from these records, never from the exit status or the output of the program.

Threat model. The program is hostile and runs in this process, so it can do anything a
Python program can: exit in any way (`sys.exit(0)`, `os._exit(0)`, `raise SystemExit`,
`KeyboardInterrupt`, a signal), kill its parent, print anything, write to any inherited
descriptor, delete, replace or patch test functions, builtins and the unittest/pytest
machinery, fork, loop forever or exhaust memory. Each of these must end with the tests it
affects counted as failed, never as passed:

- The tests are counted on the trusted side from the test source (`units`), so
  a test that does not report is a failed test, and stopping the harness early (any exit,
  an uncaught `BaseException`, a signal, a killed parent) can only lower the score.
- Test code is compiled here from the trusted source (with `optimize=0`, so asserts are
  never compiled away), by the server before it forks the child that runs the program, and
  kept in locals the program cannot rebind.
  A unittest test runs only if its function's code object is the one compiled from its `def`,
  a pytest test only if its function has the name, file and first line of its `def` (a
  deleted test does not run; a replaced one fails).
- Builtins are restored before every test, and a program's own definition of a builtin name
  (say `sorted`) is hidden from the tests; every module loaded before the program (unittest,
  pytest, `math`, ...) is restored to its state before the program ran.
- The `==` and `!=` of HumanEval/MBPP asserts go through `verified_equal` (`guards`):
  a value whose class has its own `__eq__` only compares with values that hold the same class.
- Every record ends with a 16-byte token that the server draws *after* the fork and stores
  in a memory file; the harness copies it into the pipe with `os.sendfile`, so the token never
  enters this process's memory. A record without the right token marks the whole sample as
  tampered with (reward 0): writing fake records to an inherited descriptor does not pay.
- An audit hook (`guards`), installed before the program runs and impossible to
  remove, refuses what would let the program rewrite the harness from inside:
  `sys.settrace`/`setprofile` (which can rewrite a running frame's locals), `ctypes`,
  `/proc/*/mem`, the `gc` object walkers, replacing a function's `__code__`, building
  functions or code objects by hand, opening another process's descriptors under /proc (the
  server's answer pipe), and starting other programs (a fresh interpreter could attach to
  this one with ptrace).
- Limits (time, memory, processes, files, no network) come from the sandbox: the server puts
  the child in its cgroup and rlimits (`ChildConfinement`) before the child runs anything, and
  kills everything the child started at the deadline.

Asserts (HumanEval, MBPP, `python` tests) do not share the interpreter with the program at
all: they run in a process of their own against the program's process (`program_process`),
seeing only plain data (`plain`), so none of the above, nor a returned object's own `__eq__`,
a frame walk or a patched library, reaches their verdict.

What this does not claim. In unittest and pytest modes the program shares the interpreter with
the tests, so a program written against this harness can still forge results: one that copies
the token from its descriptor itself, patches this module's functions, reaches the running
test's globals through `sys._getframe` and rebinds names there, patches a module while a test
calls it, returns an object whose own `__eq__` decides a comparison, or compiles a stand-in
pytest test with the same name, file and line.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import io
import os
import sys
import types
from typing import Any

from halo_forge.verifiers.python.guards import (
    EQUAL_HELPER,
    EVERY_MODULE,
    NOT_EQUAL_HELPER,
    ModuleState,
    guard_audit_event,
    verified_equal,
    verified_not_equal,
)
from halo_forge.verifiers.python.plain import NotPlainData, from_wire
from halo_forge.verifiers.python.program_process import (
    ProgramChannel,
    ProgramFailed,
    ProgramFunction,
    ProgramObject,
)
from halo_forge.verifiers.python.protocol import (
    DONE,
    FAILED,
    PASSED,
    PROGRAM_ERROR,
    SOLUTION_FILE,
    TEST_FILE,
    describe_exception,
    send_record,
)


def compile_trusted(source: str, filename: str) -> types.CodeType:
    """Compile with asserts kept whatever the interpreter's `-O` setting."""
    return compile(source, filename, "exec", dont_inherit=True, optimize=0)


def install_standard_streams(
    stdin_fd: int, stdout_fd: int, stderr_fd: int, *, python_objects: bool
) -> None:
    """Point fds 0-2 at this run's input and output files; with `python_objects`, fresh
    `sys.std*` too (a program whose output is checked must find them empty and working)."""
    for target, source in ((0, stdin_fd), (1, stdout_fd), (2, stderr_fd)):
        os.dup2(source, target)
    if python_objects:
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
        sys.stderr = io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace"
        )


def _find_code(code: types.CodeType, name: str, first_line: int) -> types.CodeType | None:
    """The code object of the function `name` defined at `first_line`, searched in `code`."""
    pending = [code]
    while pending:
        current = pending.pop()
        if current.co_name == name and current.co_firstlineno == first_line:
            return current
        pending.extend(const for const in current.co_consts if isinstance(const, types.CodeType))
    return None


class CompiledSample:
    """A request's program, test steps and declared tests' code, compiled on the trusted side.

    The server compiles before it forks: the child inherits the code objects, where compiling
    in the child would first copy every page the compiler writes to (copy-on-write).
    """

    __slots__ = ("declared", "program", "steps", "syntax_error")

    def __init__(
        self,
        program: types.CodeType | None,
        steps: tuple[types.CodeType, ...] = (),
        declared: tuple[tuple[str, str, types.CodeType | None], ...] = (),
        syntax_error: str | None = None,
    ) -> None:
        self.program = program
        self.steps = steps
        self.declared = declared
        self.syntax_error = syntax_error


def compile_sample(request: dict[str, Any], *, with_tests: bool = True) -> CompiledSample:
    """Compile the program and, `with_tests`, the test steps of `request` (compiling is not
    executing). Without them the caller never holds the tests' code: where another process
    runs the tests, the program's process inherits nothing of them."""
    try:
        program = compile_trusted(request["code"], SOLUTION_FILE)
        steps = tuple(compile_step(step) for step in request.get("steps", ())) if with_tests else ()
    except SyntaxError as error:
        return CompiledSample(None, syntax_error=f"SyntaxError: line {error.lineno}: {error.msg}")
    except ValueError as error:  # a null byte in the source
        return CompiledSample(None, syntax_error=describe_exception(error))
    if not with_tests:
        return CompiledSample(program)
    declared = tuple(
        (class_name, name, _find_code(program, name, first_line))
        for class_name, name, first_line in request.get("declared", ())
    )
    return CompiledSample(program, steps, declared)


@functools.lru_cache(maxsize=4096)
def compile_step(source: str) -> types.CodeType:
    """A test step's code; every sample of a task runs the same steps, so each compiles once.

    Code objects are immutable and each child executes its own copy-on-write view of one, so
    sharing them between samples shares nothing a program could change.
    """
    return compile_trusted(source, TEST_FILE)


def run_child(
    request: dict[str, Any], compiled: CompiledSample, report_fd: int, token_fd: int
) -> None:
    """Run the program and its tests as `request` says, reporting each step; the caller exits.

    Called in the forked child after it is confined, with `compile_sample(request)` made
    before the fork. Everything the reporting needs is bound to locals here, before the
    program runs.
    """
    write, copy, run = os.write, os.sendfile, exec
    builtin_names = builtins.__dict__
    saved_builtins = dict(builtin_names)

    def report(kind: bytes, index: int, message: str = "") -> None:
        send_record(report_fd, token_fd, kind, index, message, write, copy)

    mode = request["mode"]
    module_name = "__main__" if mode == "script" else "solution"
    program, declared = compiled.program, compiled.declared
    if program is None:
        report(PROGRAM_ERROR, 0, compiled.syntax_error or "the program does not compile")
        report(DONE, 0)
        return
    machinery = None
    if mode == "unittest":
        import unittest  # noqa: F401 - loaded before the program, so its state can be restored

        machinery = ModuleState(EVERY_MODULE)
    sys.addaudithook(guard_audit_event)

    if mode == "pytest":
        from halo_forge.verifiers.python.harness_pytest import run_pytest

        run_pytest(request, report)
        report(DONE, 0)
        return

    namespace: dict[str, Any] = {"__name__": module_name, "__builtins__": builtins}
    sys.argv = [SOLUTION_FILE]
    try:
        run(program, namespace)
        completed, message = True, ""
    except SystemExit as error:  # a script may end with sys.exit(0); tests may not end at all
        code = error.code
        completed = mode == "script" and (code is None or (type(code) is int and code == 0))
        message = describe_exception(error)
    except BaseException as error:
        completed, message = False, describe_exception(error)
    builtin_names.clear()
    builtin_names.update(saved_builtins)

    if mode == "script":
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException as error:
            completed, message = False, describe_exception(error)
        report(PASSED if completed else FAILED, 0, message)
    elif not completed:
        report(PROGRAM_ERROR, 0, message)
    elif machinery is not None:
        _run_unittest_tests(namespace, declared, report, machinery, builtin_names, saved_builtins)
    report(DONE, 0)


#: Modules the tests process imports itself when the program imported them and the tests use
#: them without an import of their own (`math.isclose` after the program's `import math`):
#: computation only, no side effect on import.
_TESTS_IMPORTABLE = frozenset(
    [
        "array",
        "bisect",
        "calendar",
        "cmath",
        "collections",
        "copy",
        "datetime",
        "decimal",
        "fractions",
        "functools",
        "hashlib",
        "heapq",
        "itertools",
        "json",
        "math",
        "numbers",
        "operator",
        "random",
        "re",
        "statistics",
        "string",
        "struct",
        "sys",
        "typing",
    ]
)


def run_tests_process(
    request: dict[str, Any],
    steps: tuple[types.CodeType, ...],
    channel: ProgramChannel,
    report_fd: int,
    token_fd: int,
) -> None:
    """The tests process of an asserts request: each step against the program's process.

    Nothing of the program runs here (see `program_process`): builtins, modules and the
    expected values are this process's own, and the program's results arrive as plain data.
    """

    def report(kind: bytes, index: int, message: str = "") -> None:
        send_record(report_fd, token_fd, kind, index, message, os.write, os.sendfile)

    try:
        exports = channel.exports()
    except ProgramFailed as error:
        report(PROGRAM_ERROR, 0, str(error))
        report(DONE, 0)
        return
    entry_point = request.get("entry_point") or ""
    namespace = _tests_namespace(exports, channel, entry_point)
    parameter = request.get("parameter")
    if parameter:
        if entry_point not in exports:
            report(PROGRAM_ERROR, 0, f"NameError: the program does not define {entry_point!r}")
            report(DONE, 0)
            return
        namespace[parameter] = namespace[entry_point]
    for index, step in enumerate(steps):
        try:
            exec(step, namespace)
            passed, message = True, ""
        except BaseException as error:
            passed, message = False, describe_exception(error)
        report(PASSED if passed else FAILED, index, message)
    report(DONE, 0)


def _tests_namespace(exports: dict[str, Any], channel: ProgramChannel, keep: str) -> dict[str, Any]:
    """The tests' view of the program's names: stand-ins that call into it, its plain
    values, and fresh imports of the modules it used; its redefinitions of builtins (but
    `keep`, the entry point) are hidden."""
    namespace: dict[str, Any] = {}
    for name, how in exports.items():
        if name.startswith("__") or (name in builtins.__dict__ and name != keep):
            continue
        kind = how[0] if type(how) is list and how else None
        value: Any = ProgramFunction(channel, name)
        try:
            if kind == "m":
                value = _fresh_module(how[1])
            elif kind == "g":
                value = functools.reduce(getattr, how[2].split("."), _fresh_module(how[1]))
            elif kind == "v":
                value = from_wire(how[1], lambda number: ProgramObject(channel, number))
        except (LookupError, AttributeError, TypeError, ImportError, NotPlainData):
            pass
        namespace[name] = value
    namespace["__builtins__"] = builtins
    namespace["__name__"] = "__tests__"
    namespace[EQUAL_HELPER] = verified_equal
    namespace[NOT_EQUAL_HELPER] = verified_not_equal
    return namespace


def _fresh_module(name: Any) -> types.ModuleType:
    if not isinstance(name, str) or name.partition(".")[0] not in _TESTS_IMPORTABLE:
        raise ImportError(f"the tests process does not import {name!r}")
    return importlib.import_module(name)


def _run_unittest_tests(
    namespace: dict[str, Any],
    declared: tuple[tuple[str, str, types.CodeType | None], ...],
    report: Any,
    machinery: ModuleState,
    builtin_names: dict[str, Any],
    saved_builtins: dict[str, Any],
) -> None:
    """Run each declared test method alone through `TestCase.run`; report each outcome.

    Before each test, every module loaded before the program (unittest, `math`, `operator`,
    ...) gets back the attributes it had then, and so do builtins.
    """
    import unittest

    for index, (class_name, name, code) in enumerate(declared):
        machinery.restore()
        builtin_names.clear()
        builtin_names.update(saved_builtins)
        try:
            passed, message = _run_one_unittest(unittest, namespace, class_name, name, code)
        except BaseException as error:
            passed, message = False, describe_exception(error)
        report(PASSED if passed else FAILED, index, message)


def _run_one_unittest(
    unittest: Any, namespace: dict[str, Any], class_name: str, name: str, code: Any
) -> tuple[bool, str]:
    test_class = namespace.get(class_name)
    function = getattr(test_class, name, None)
    if getattr(function, "__unittest_skip__", False):
        return False, "skipped"
    if code is None or type(function) is not types.FunctionType or function.__code__ is not code:
        return False, f"{class_name}.{name} was deleted or replaced after its definition"
    result = unittest.TestResult()
    test_class(name).run(result)
    problems = result.failures + result.errors
    if problems:
        return False, problems[0][1].strip().splitlines()[-1]
    for outcome, words in (
        (result.skipped, "skipped"),
        (result.expectedFailures, "expected failure"),
        (result.unexpectedSuccesses, "unexpected success"),
    ):
        if outcome:
            return False, words
    if result.testsRun != 1:
        return False, "the test did not run"
    return True, ""
