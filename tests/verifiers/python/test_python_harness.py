"""The verdict cannot be forged: every attack of the threat model ends as failed tests.

Each test runs a real program in the real sandbox through a verifier. The program is wrong
(`double` returns its argument: one of the three tests passes by luck), and adds an attack;
an attack that worked would raise the score above what the wrong function alone earns.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from halo_forge.verifiers.python.verifiers import MBPPVerifier, UnittestVerifier
from halo_forge.verifiers.sandbox import isolation_report

GOOD = "def double(x):\n    return 2 * x\n"
WRONG = "def double(x):\n    return x\n"
TESTS = ["assert double(1) == 2", "assert double(2) == 4", "assert double(0) == 0"]


@pytest.fixture(scope="module")
def verifier() -> Iterator[MBPPVerifier]:
    with MBPPVerifier(use_cache=False, max_workers=2, timeout=3.0) as verifier:
        yield verifier


def check(verifier: MBPPVerifier, program: str, tests: list[str] = TESTS):
    return verifier.verify(program, tests=tests)


def test_honest_programs_score_by_the_tests_they_pass(verifier: MBPPVerifier) -> None:
    assert check(verifier, GOOD).reward == 1.0
    wrong = check(verifier, WRONG)
    assert (wrong.reward, wrong.metadata["tests_passed"]) == (0.25, 1)


@pytest.mark.parametrize(
    "attack",
    [
        "import sys\nsys.exit(0)\n",
        "import os\nos._exit(0)\n",
        "raise SystemExit\n",
        "raise SystemExit(0)\n",
        "raise KeyboardInterrupt\n",
        "print('test_solution PASSED\\n===== 3 passed in 0.01s =====')\nimport sys\nsys.exit(0)\n",
    ],
    ids=[
        "sys.exit(0)",
        "os._exit(0)",
        "raise SystemExit",
        "SystemExit(0)",
        "KeyboardInterrupt",
        "fake output",
    ],
)
def test_ending_the_process_before_the_tests_scores_zero(
    verifier: MBPPVerifier, attack: str
) -> None:
    result = check(verifier, GOOD + attack)
    assert result.reward == 0.0
    assert result.metadata["tests_passed"] == 0
    assert result.metadata["tests_total"] == 3


def test_exiting_in_the_middle_keeps_only_the_tests_that_reported(verifier: MBPPVerifier) -> None:
    program = "import os\ndef double(x):\n    if x == 2:\n        os._exit(0)\n    return 2 * x\n"
    result = check(verifier, program)
    assert result.metadata["tests_passed"] == 1
    assert "the program's process ended" in result.details


def test_keyboard_interrupt_in_a_test_fails_only_that_test(verifier: MBPPVerifier) -> None:
    program = "def double(x):\n    if x == 2:\n        raise KeyboardInterrupt\n    return 2 * x\n"
    result = check(verifier, program)
    assert (result.metadata["tests_passed"], result.reward) == (2, 0.5)
    assert "KeyboardInterrupt" in result.details


def test_killing_the_parent_scores_zero_and_the_next_sample_still_runs(
    verifier: MBPPVerifier,
) -> None:
    attack = (
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nimport time\ntime.sleep(1)\n"
    )
    result = check(verifier, GOOD + attack)
    assert result.reward == 0.0
    assert check(verifier, GOOD).reward == 1.0


@pytest.mark.parametrize(
    "record", [b"P 0 0\n", b"P 1 0\n", b"D 0 0\n"], ids=["pass", "pass-1", "done"]
)
def test_fake_records_on_inherited_descriptors_do_not_pay(
    verifier: MBPPVerifier, record: bytes
) -> None:
    attack = (
        "import os\n"
        "for descriptor in range(3, 256):\n"
        "    try:\n"
        f"        os.write(descriptor, {record!r} + bytes(16))\n"
        "    except OSError:\n"
        "        pass\n"
    )
    result = check(verifier, WRONG + attack)
    assert result.reward <= 0.25  # at most what WRONG earns by itself
    assert result.metadata["tests_passed"] <= 1


def test_patched_builtins_are_restored_before_each_test(verifier: MBPPVerifier) -> None:
    program = "import builtins\nbuiltins.len = lambda value: 3\ndef items():\n    return [1]\n"
    result = check(verifier, program, ["assert len(items()) == 3"])
    assert result.reward == 0.0


def test_a_builtin_redefined_by_the_program_is_hidden_from_the_tests(
    verifier: MBPPVerifier,
) -> None:
    program = "def sorted(values):\n    return [1, 2, 3]\ndef items():\n    return [3]\n"
    assert check(verifier, program, ["assert sorted(items()) == [1, 2, 3]"]).reward == 0.0


def test_defining_the_check_function_changes_nothing(verifier: MBPPVerifier) -> None:
    program = WRONG + "def test_solution():\n    pass\ncheck = test_solution\n"
    tests = "def test_solution():\n" + "".join(f"    {test}\n" for test in TESTS)
    assert check(verifier, program, tests).metadata["tests_passed"] == 1


ALWAYS_EQUAL = "class Anything:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n        return False\n"


@pytest.mark.parametrize(
    "returned",
    ["Anything()", "[Anything()]", "{'key': Anything()}", "Number(0)"],
    ids=["object", "in a list", "in a dict", "int subclass"],
)
def test_objects_equal_to_everything_do_not_pass_comparisons(
    verifier: MBPPVerifier, returned: str
) -> None:
    program = (
        ALWAYS_EQUAL
        + "class Number(int):\n    __eq__ = lambda self, other: True\n"
        + f"def double(x):\n    return {returned}\n"
    )
    tests = ["assert double(1) == 2", "assert double(2) == [4]", "assert double(3) == {'key': 6}"]
    assert check(verifier, program, [*tests, "assert not double(4) != 8"]).reward == 0.0


def test_comparing_two_objects_of_the_program_is_not_a_pass(verifier: MBPPVerifier) -> None:
    """Its own `__eq__` would decide: the objects stay in the program's process, and the
    tests can pass them back to it but never compare them."""
    program = (
        "class Pair:\n    def __init__(self, a, b):\n        self.a, self.b = a, b\n"
        "    def __eq__(self, other):\n        return True\n"
        "def swap(pair):\n    return Pair(pair.b, pair.a)\n"
        "def first(pair):\n    return pair.a\n"
    )
    tests = ["assert swap(Pair(1, 2)) == Pair(2, 1)", "assert first(swap(Pair(3, 4))) == 4"]
    result = check(verifier, program, tests)
    assert result.metadata["tests_passed"] == 1
    assert "not plain data" in result.details


@pytest.mark.parametrize(
    "action",
    [
        "import ctypes",
        "import sys\nsys.settrace(lambda *args: None)",
        "import sys\nsys.setprofile(lambda *args: None)",
        "open('/proc/self/mem', 'rb')",
        "import os\nos.listdir(f'/proc/{os.getppid()}/fd')\nopen(f'/proc/{os.getppid()}/fd/1', 'wb')",
        "import subprocess\nsubprocess.run(['true'])",
        "import os\nos.execv('/bin/true', ['true'])",
        "import gc\ngc.get_objects()",
        "double.__code__ = (lambda x: 2 * x).__code__",
    ],
    ids=[
        "ctypes",
        "settrace",
        "setprofile",
        "mem",
        "parent-fd",
        "subprocess",
        "exec",
        "gc",
        "__code__",
    ],
)
def test_ways_to_rewrite_the_harness_are_refused(verifier: MBPPVerifier, action: str) -> None:
    result = check(verifier, GOOD + action + "\n")
    assert result.reward == 0.0
    assert "not allowed" in result.details


def test_infinite_loop_times_out_and_the_batch_finishes() -> None:
    with MBPPVerifier(use_cache=False, max_workers=2, timeout=1.0) as verifier:
        loop = "def double(x):\n    while True:\n        pass\n"
        results = verifier.verify_batch([loop, GOOD, WRONG], contexts=[{"tests": TESTS}] * 3)
    assert [result.reward for result in results] == [0.0, 1.0, 0.25]
    assert results[0].metadata["timed_out"] is True
    assert "timed out" in results[0].details


def test_memory_limit_fails_the_allocating_test() -> None:
    with MBPPVerifier(use_cache=False, max_workers=1, memory_limit_mb=256) as verifier:
        program = "def double(x):\n    block = bytearray(1024 ** 3)\n    return 2 * x\n"
        result = verifier.verify(program, tests=TESTS)
    assert result.reward == 0.0
    assert "MemoryError" in result.details


HOGS = (
    "import os, time\n"
    "def hold_memory(count):\n"
    "    for _ in range(count):\n"
    "        if os.fork() == 0:\n"
    "            block = b'x' * (120 * 1024 * 1024)\n"
    "            time.sleep(0.5)\n"
    "            os._exit(0)\n"
    "    statuses = [os.wait()[1] for _ in range(count)]\n"
    "    return sum(status == 0 for status in statuses)\n"
)


def test_memory_cap_holds_for_a_programs_processes_together() -> None:
    report = isolation_report()
    if not report.memory_limit.startswith("memory-cgroup"):
        pytest.fail(f"no memory cgroup here; isolation report: {report}")
    # 4 x 120 MB fits each process's 256 MB address space, not the sample's 256 MB total.
    with MBPPVerifier(use_cache=False, max_workers=1, memory_limit_mb=256) as verifier:
        assert verifier.verify(HOGS, tests=["assert hold_memory(1) == 1"]).reward == 1.0
        result = verifier.verify(HOGS, tests=["assert hold_memory(4) == 4"])
    assert result.reward == 0.0


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_programs_cannot_reach_the_network(verifier: MBPPVerifier) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/"
        import urllib.request

        assert urllib.request.urlopen(url, timeout=5).read() == b"ok"  # reachable from here
        program = (
            "import urllib.request\n"
            f"def fetch():\n    return urllib.request.urlopen({url!r}, timeout=2).read()\n"
        )
        result = check(verifier, program, ["assert fetch() == b'ok'"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.reward == 0.0
    assert "URLError" in result.details or "Connection" in result.details


UNITTEST_PROGRAM = """import unittest


def double(x):
    return x


class TestDouble(unittest.TestCase):
    def test_one(self):
        self.assertEqual(double(1), 2)

    def test_zero(self):
        self.assertEqual(double(0), 0)
"""


@pytest.fixture(scope="module")
def unittest_verifier() -> Iterator[UnittestVerifier]:
    with UnittestVerifier(use_cache=False, max_workers=1, timeout=3.0) as verifier:
        yield verifier


@pytest.mark.parametrize(
    "attack",
    [
        "import sys\nsys.exit(0)\n",
        "import os\nos._exit(0)\n",
        "unittest.main()\n",
    ],
    ids=["sys.exit(0)", "os._exit(0)", "unittest.main"],
)
def test_unittest_exits_score_zero(unittest_verifier: UnittestVerifier, attack: str) -> None:
    assert unittest_verifier.verify(UNITTEST_PROGRAM + attack).reward == 0.0


@pytest.mark.parametrize(
    "attack",
    [
        "TestDouble.test_one = lambda self: None\n",
        "TestDouble.test_one = TestDouble.test_zero\n",
        "del TestDouble.test_one\n",
        "unittest.TestCase.assertEqual = lambda *args, **kwargs: None\n",
        "unittest.TestResult.addFailure = lambda *args: None\n",
    ],
    ids=["replaced", "swapped", "deleted", "patched assertEqual", "patched TestResult"],
)
def test_unittest_patches_do_not_turn_a_failure_into_a_pass(
    unittest_verifier: UnittestVerifier, attack: str
) -> None:
    result = unittest_verifier.verify(UNITTEST_PROGRAM + attack)
    assert result.metadata["tests_total"] == 2
    assert result.metadata["tests_passed"] <= 1
    assert result.reward <= 0.5


def test_process_limit_stops_a_program_that_forks_too_much() -> None:
    program = (
        "import os, time\n"
        "def spawn(count):\n"
        "    for _ in range(count):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(2)\n"
        "            os._exit(0)\n"
        "    return count\n"
    )
    with MBPPVerifier(use_cache=False, max_workers=1, max_processes=16) as verifier:
        result = verifier.verify(program, tests=["assert spawn(40) == 40"])
        assert verifier.verify(program, tests=["assert spawn(4) == 4"]).reward == 1.0
    assert result.reward == 0.0
    assert "BlockingIOError" in result.details
