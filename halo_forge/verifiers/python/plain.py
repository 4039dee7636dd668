"""Plain data across the boundary between a program's process and its tests' process.

The asserts of HumanEval, MBPP and `python` tests run in a process the program never ran in
(`program_process`); what the program returns reaches them only as *plain data*: `None`,
`bool`, `int`, `float`, `complex`, `str`, `bytes`, `bytearray`, and `list`, `tuple`, `dict`,
`set`, `frozenset` of plain data. A value of a subclass of one of these is converted to the
base type through the base type's own methods (an `int` subclass whose `__eq__` says yes to
everything arrives as the plain `int` it holds); anything else stays in the program's process
and the tests get an opaque handle that can be passed back to the program but never compared.

`to_wire` runs on both sides (the program's side may be patched by the program: it can only
send what decoding accepts), `from_wire` on the tests' side builds nothing but the builtin
types above and the handles the tests' side makes itself. Standard library only: this runs in
the small fork server's children.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Deeper nesting than this is not data a test compares; it stays behind a handle.
MAX_DEPTH = 200
#: Integers beyond JSON's exact range travel as hexadecimal (no 4300-digit `str` limit).
_EXACT_INT = 2**53

Foreign = Callable[[Any], Any]


class NotPlainData(TypeError):
    """A value that cannot cross as plain data (a function, an instance, a cycle)."""


def to_wire(value: Any, foreign: Foreign, depth: int = 0) -> Any:
    """`value` as JSON-ready tagged data; `foreign(value)` says what to send for the rest."""
    if depth > MAX_DEPTH:
        return foreign(value)
    cls = type(value)
    if value is None or cls is bool or cls is str:
        return value
    if cls is float:
        return value
    if cls is int:
        return value if -_EXACT_INT < value < _EXACT_INT else ["i", format(value, "x")]
    for base, convert in _CONVERSIONS:
        if isinstance(value, base):
            return convert(value, foreign, depth + 1)
    return foreign(value)


def _items(tag: str, iterate: Callable[[Any], Any]) -> Callable[[Any, Foreign, int], Any]:
    def convert(value: Any, foreign: Foreign, depth: int) -> Any:
        return [tag, [to_wire(item, foreign, depth) for item in iterate(value)]]

    return convert


def _dict(value: Any, foreign: Foreign, depth: int) -> Any:
    return [
        "d",
        [[to_wire(k, foreign, depth), to_wire(v, foreign, depth)] for k, v in dict.items(value)],
    ]


# Checked in order: `bool` cannot be subclassed, so an `int` subclass is a number here.
_CONVERSIONS: tuple[tuple[type, Callable[[Any, Foreign, int], Any]], ...] = (
    (int, lambda value, foreign, depth: to_wire(int.__int__(value), foreign, depth)),
    (float, lambda value, foreign, depth: float.__float__(value)),
    (str, lambda value, foreign, depth: str.__str__(value)),
    (
        complex,
        lambda value, _, __: [
            "c",
            [complex.__complex__(value).real, complex.__complex__(value).imag],
        ],
    ),
    (bytes, lambda value, _, __: ["b", bytes.__bytes__(value).hex()]),
    (bytearray, lambda value, _, __: ["y", bytes(value).hex()]),
    (list, _items("l", list.__iter__)),
    (tuple, _items("t", tuple.__iter__)),
    (dict, _dict),
    (set, _items("s", set.__iter__)),
    (frozenset, _items("f", frozenset.__iter__)),
)


def from_wire(data: Any, handle: Callable[[int], Any]) -> Any:
    """Plain data from tagged JSON data, or `NotPlainData`; `handle(number)` makes a handle."""
    cls = type(data)
    if data is None or cls is bool or cls is str or cls is int or cls is float:
        return data
    if cls is not list or len(data) != 2 or type(data[0]) is not str:
        raise NotPlainData("malformed value from the program's process")
    tag, payload = data
    try:
        if tag in _CONTAINERS:
            items = [from_wire(item, handle) for item in _sequence(payload)]
            return _CONTAINERS[tag](items)
        if tag == "d":
            return {
                from_wire(key, handle): from_wire(value, handle)
                for key, value in (_pair(pair) for pair in _sequence(payload))
            }
        if tag == "i" and type(payload) is str:
            return int(payload, 16)
        if tag in ("b", "y") and type(payload) is str:
            return (bytes if tag == "b" else bytearray).fromhex(payload)
        if tag == "c" and len(_sequence(payload)) == 2:
            return complex(*(float(part) for part in payload))
        if tag == "h" and type(payload) is int:
            return handle(payload)
    except (TypeError, ValueError) as error:  # unhashable keys, bad numbers
        raise NotPlainData(f"malformed value from the program's process: {error}") from None
    raise NotPlainData("malformed value from the program's process")


_CONTAINERS: dict[str, Callable[[list[Any]], Any]] = {
    "l": list,
    "t": tuple,
    "s": set,
    "f": frozenset,
}


def _sequence(payload: Any) -> list[Any]:
    if type(payload) is not list:
        raise NotPlainData("malformed value from the program's process")
    return payload


def _pair(pair: Any) -> tuple[Any, Any]:
    if type(pair) is not list or len(pair) != 2:
        raise NotPlainData("malformed value from the program's process")
    return pair[0], pair[1]
