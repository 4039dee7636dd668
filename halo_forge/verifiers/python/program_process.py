"""Asserts against a program that lives in another process: the two sides of the call channel.

For HumanEval, MBPP and `python` asserts the fork server forks one child per sample, the
*program process*, confined, which runs the program and then answers calls (`serve_program`);
the server's *tests process* (`tests_process`) never runs a line of any program: it executes
the trusted test steps, and each name the program defines is a stand-in there (`ProgramFunction`) that sends
the call over a pipe. So the program cannot

- make a comparison come out true: what it returns arrives as plain data (`plain`), converted
  from any subclass, and an object that is not plain data arrives as a handle that refuses
  every comparison, truth test and operator;
- read the expected values: they exist only in the tests process (the program process drops
  the request's test source before the program runs), so no frame, `inspect` or `gc` walk in
  the program's process can find them;
- patch what the tests call: `math`, `builtins`, `operator` and every other module the tests
  use are the tests process's own, untouched. A module the program imported and the tests use
  without importing it is imported afresh on the tests' side.

Messages are a 4-byte length and a JSON document. Standard library only: this runs in the
fork server's children.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import types
from typing import Any

from halo_forge.verifiers.python.plain import NotPlainData, from_wire, to_wire
from halo_forge.verifiers.python.protocol import SOLUTION_FILE, describe_exception

#: Largest message the tests process reads from the program process.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class ProgramFailed(Exception):
    """The program process failed to answer (it ended, or sent something malformed)."""


def send_message(descriptor: int, message: Any) -> None:
    data = json.dumps(message).encode()
    data = len(data).to_bytes(4, "big") + data
    while data:
        data = data[os.write(descriptor, data) :]


def receive_message(descriptor: int, limit: int = MAX_MESSAGE_BYTES) -> Any:
    """The next message, or `ProgramFailed` on end of file, a flood or malformed JSON."""
    length = int.from_bytes(_read_exactly(descriptor, 4), "big")
    if length > limit:
        raise ProgramFailed(f"the program sent {length} bytes, more than {limit}")
    try:
        return json.loads(_read_exactly(descriptor, length))
    except (ValueError, RecursionError) as error:
        raise ProgramFailed(f"the program sent a malformed message: {error}") from None


def _read_exactly(descriptor: int, count: int) -> bytes:
    chunks = []
    while count:
        chunk = os.read(descriptor, min(count, 1 << 20))
        if not chunk:
            raise ProgramFailed("the program's process ended")
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


# The program's side ------------------------------------------------------------------------


def serve_program(
    program: types.CodeType, module_name: str, calls_fd: int, replies_fd: int
) -> None:
    """Run the program, tell the tests process what it defines, then answer calls until EOF."""
    namespace: dict[str, Any] = {"__name__": module_name, "__builtins__": builtins}
    sys.argv = [SOLUTION_FILE]
    try:
        exec(program, namespace)
    except BaseException as error:
        send_message(replies_fd, ["e", describe_exception(error)])
        return
    handles: list[Any] = []

    def foreign(value: Any) -> list[Any]:
        handles.append(value)
        return ["h", len(handles) - 1]

    send_message(replies_fd, ["r", _exports(namespace, module_name, foreign)])

    def local(data: Any) -> Any:
        return from_wire(data, handles.__getitem__)

    while True:
        try:
            kind, target, arguments, keywords = receive_message(calls_fd)
        except ProgramFailed:
            return
        try:
            if kind == "a":
                result = getattr(handles[target[0]], str(target[1]))
            else:
                function = namespace[target] if kind == "n" else handles[target]
                args = local(arguments)
                kwargs = {key: local(value) for key, value in keywords.items()}
                result = function(*args, **kwargs)
            reply = ["v", to_wire(result, foreign)]
        except BaseException as error:
            reply = ["x", type(error).__name__, describe_exception(error)]
        send_message(replies_fd, reply)


def _exports(namespace: dict[str, Any], module_name: str, foreign: Any) -> dict[str, Any]:
    """How the tests process should see each name: a module, a library object to import
    there, a plain value, or a stand-in that calls here."""
    exports: dict[str, Any] = {}
    for name, value in namespace.items():
        if name.startswith("__"):
            continue
        try:
            if isinstance(value, types.ModuleType):
                exports[name] = ["m", value.__name__]
            elif callable(value):
                home = getattr(value, "__module__", None)
                qualname = getattr(value, "__qualname__", None)
                if isinstance(home, str) and home != module_name and isinstance(qualname, str):
                    exports[name] = ["g", home, qualname]
                else:
                    exports[name] = ["p"]
            else:
                exports[name] = ["v", to_wire(value, foreign)]
        except Exception:
            exports[name] = ["p"]
    return exports


# The tests' side ---------------------------------------------------------------------------


class ProgramChannel:
    """The tests process's end: the program's answer to start-up, and calls into it."""

    def __init__(self, calls_fd: int, replies_fd: int) -> None:
        self.calls_fd = calls_fd
        self.replies_fd = replies_fd
        self.closed = False

    def close(self) -> None:
        """End the sample's calls: a handle kept past its sample fails instead of calling into
        whatever process holds these descriptor numbers next (the caller closes them)."""
        self.closed = True

    def exports(self) -> dict[str, Any]:
        """What the program defines, or `ProgramFailed` with why it did not run to its end."""
        reply = receive_message(self.replies_fd)
        if type(reply) is list and len(reply) == 2 and reply[0] == "e":
            raise ProgramFailed(str(reply[1]))
        if type(reply) is not list or len(reply) != 2 or type(reply[1]) is not dict:
            raise ProgramFailed("the program's process sent a malformed start-up message")
        return reply[1]

    def call(self, kind: str, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call into the program; its result as plain data or a handle, its error re-raised."""
        if self.closed:
            raise ProgramFailed("the program's sample has ended")
        try:
            message = [
                kind,
                target,
                to_wire(list(args), _refuse),
                {str(key): to_wire(value, _refuse) for key, value in kwargs.items()},
            ]
        except NotPlainData as error:
            raise NotPlainData(f"only plain data can be passed to the program: {error}") from None
        try:
            send_message(self.calls_fd, message)
        except OSError:  # a broken pipe: the program's process is gone
            raise ProgramFailed("the program's process ended") from None
        reply = receive_message(self.replies_fd)
        if type(reply) is list and len(reply) == 2 and reply[0] == "v":
            return from_wire(reply[1], lambda number: ProgramObject(self, number))
        if type(reply) is list and len(reply) == 3 and reply[0] == "x":
            raise _exception_like(reply[1], reply[2])
        raise ProgramFailed("the program's process sent a malformed reply")


def _refuse(value: Any) -> Any:
    if type(value) is ProgramObject:
        return ["h", value._number]
    raise NotPlainData(f"a {type(value).__name__} is not plain data")


def _exception_like(name: Any, message: Any) -> Exception:
    """The program's error as a builtin exception of the same name (tests may expect a
    `ValueError`), else as `ProgramFailed`; never a `BaseException` that ends the tests."""
    text = str(message)
    kind = getattr(builtins, name, None) if isinstance(name, str) else None
    if isinstance(kind, type) and issubclass(kind, Exception) and kind is not AssertionError:
        try:
            return kind(text)
        except Exception:
            pass
    return ProgramFailed(text)


class ProgramFunction:
    """A name the program defines, as the tests see it: calling it calls into the program."""

    __slots__ = ("_channel", "_name")

    def __init__(self, channel: ProgramChannel, name: str) -> None:
        self._channel = channel
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._channel.call("n", self._name, args, kwargs)

    def __repr__(self) -> str:
        return f"<the program's {self._name}>"


def _not_plain(self: ProgramObject, *args: Any) -> Any:
    raise NotPlainData(
        f"the program returned an object that is not plain data ({self!r}): "
        "it cannot be compared, tested or operated on"
    )


class ProgramObject:
    """An object that stays in the program's process: it can be passed back to the program,
    called, or have attributes read (each a call into the program), and nothing else."""

    __slots__ = ("_channel", "_number")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, channel: ProgramChannel, number: int) -> None:
        self._channel = channel
        self._number = number

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._channel.call("h", self._number, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._channel.call("a", [self._number, name], (), {})

    def __repr__(self) -> str:
        return f"<an object of the program, #{self._number}>"


for _name in [
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__bool__",
    "__len__",
    "__iter__",
    "__contains__",
    "__getitem__",
    "__add__",
    "__radd__",
    "__sub__",
    "__rsub__",
    "__mul__",
    "__rmul__",
    "__truediv__",
    "__rtruediv__",
    "__floordiv__",
    "__rfloordiv__",
    "__mod__",
    "__rmod__",
    "__pow__",
    "__rpow__",
    "__neg__",
    "__pos__",
    "__abs__",
    "__and__",
    "__rand__",
    "__or__",
    "__ror__",
    "__xor__",
    "__rxor__",
    "__int__",
    "__float__",
    "__index__",
    "__str__",
    "__format__",
    "__round__",
]:
    setattr(ProgramObject, _name, _not_plain)
