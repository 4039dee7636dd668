"""The child's guards, called directly (the audit hook is never installed in this process)."""

from __future__ import annotations

import collections
import fractions
import os

import pytest

from halo_forge.verifiers.python.guards import (
    guard_audit_event,
    verified_equal,
    verified_not_equal,
)


@pytest.mark.parametrize(
    ("event", "args"),
    [
        ("sys.settrace", ()),
        ("ctypes.dlopen", ("libc.so.6",)),
        ("import", ("ctypes", None, [], [], [])),
        ("object.__setattr__", (len, "__code__", None)),
        ("open", ("/proc/self/mem", "r", 0)),
        ("open", (f"/proc/{os.getppid()}/fd/1", "w", 0)),
        ("open", (b"/proc/1/task/1/fd/0", "r", 0)),
        ("subprocess.Popen", ("true", ["true"], None, None)),
    ],
    ids=["settrace", "ctypes", "import ctypes", "__code__", "mem", "parent fd", "task fd", "popen"],
)
def test_guard_refuses_ways_to_reach_the_harness(event: str, args: tuple) -> None:
    with pytest.raises(PermissionError, match="not allowed"):
        guard_audit_event(event, args)


@pytest.mark.parametrize(
    ("event", "args"),
    [
        ("open", ("/proc/self/status", "r", 0)),
        ("open", ("data.txt", "w", 0)),
        ("open", (3, "r", 0)),
        ("import", ("math", None, [], [], [])),
        ("object.__setattr__", (collections.OrderedDict, "answer", 42)),
        ("exec", (compile("1", "<x>", "eval"),)),
    ],
    ids=["own status", "workdir file", "descriptor", "import math", "class attribute", "exec"],
)
def test_guard_lets_ordinary_programs_run(event: str, args: tuple) -> None:
    guard_audit_event(event, args)


class Anything:
    def __eq__(self, other: object) -> bool:
        return True


class Point:
    def __init__(self, x: int) -> None:
        self.x = x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and other.x == self.x


def test_a_value_equal_to_everything_fails_either_comparison() -> None:
    for left, right in ((Anything(), 3), ([Anything()], [3]), ({"k": (Anything(),)}, {"k": (3,)})):
        with pytest.raises(AssertionError, match="Anything"):
            verified_equal(left, right)
        with pytest.raises(AssertionError, match="Anything"):
            verified_not_equal(left, right)


def test_ordinary_and_same_class_comparisons_are_unchanged() -> None:
    assert verified_equal([1, (2.0, "a")], [1, (2, "a")])
    assert verified_not_equal({1: 2}, {1: 3})
    assert verified_equal(Point(1), Point(1)) and not verified_equal(Point(1), Point(2))
    assert verified_equal([Point(1)], [Point(1)])
    assert verified_equal(collections.Counter("aab"), {"a": 2, "b": 1})  # stdlib __eq__
    assert verified_equal(fractions.Fraction(1, 2), 0.5)
