"""The tests process of a fork server: what one sample leaves there never decides the next.

Each verifier here has one worker, so consecutive samples run on one server and their asserts
in its one long-lived tests process. A probe sample reads that process's pid
(`pid_of_tests_process`), which shows whether a sample found the process it followed or a
fresh one. Real programs, real fork servers, real sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from halo_forge.verifiers.python.verifiers import MBPPVerifier
from halo_forge.verifiers.registry import build_verifier

TESTS = ["assert add(1, 2) == 3", "assert add(20, 22) == 42", "assert add(-5, 5) == 0"]
HONEST = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a + b if a > 0 else 1\n"  # two of TESTS pass

#: Finds the tests process: the other child of the program's parent, the server.
FIND_TESTS_PROCESS = (
    "import os, signal, sys\n"
    "ME, SERVER = os.getpid(), os.getppid()\n"
    "def state(pid):\n"
    "    with open(f'/proc/{pid}/stat') as stat:\n"
    "        return stat.read().rpartition(')')[2].split()\n"
    "def find_tests_process():\n"
    "    for name in os.listdir('/proc'):\n"
    "        if name.isdigit() and int(name) != ME:\n"
    "            try:\n"
    "                if int(state(name)[1]) == SERVER:\n"
    "                    return int(name)\n"
    "            except OSError:\n"
    "                continue\n"
    "    raise LookupError('no tests process')\n"
    "TESTS = find_tests_process()\n"
)


def while_tests_run(action: str) -> str:
    """A correct program that does `action` to the tests process before its tests run."""
    return FIND_TESTS_PROCESS + f"{action}\n" + HONEST


def once_tests_finish(signal_name: str) -> str:
    """A correct program that signals the tests process once it has reported every test,
    said it finished and gone back to waiting for the next sample. The server is stopped
    from the last call until then, so it cannot end the program first."""
    return FIND_TESTS_PROCESS + (
        "channel = sys.modules['halo_forge.verifiers.python.program_process']\n"
        "receive = channel.receive_message\n"
        "def after_the_tests(descriptor, *args):\n"
        "    try:\n"
        "        return receive(descriptor, *args)\n"
        "    except channel.ProgramFailed:\n"  # the tests process closed the calls
        "        while state(TESTS)[0] != 'S':\n"  # until it waits for the next sample
        "            pass\n"
        f"        os.kill(TESTS, signal.{signal_name})\n"
        "        os.kill(SERVER, signal.SIGCONT)\n"
        "        raise\n"
        "channel.receive_message = after_the_tests\n"
        "def add(a, b):\n"
        "    if (a, b) == (-5, 5):\n"  # the last call of TESTS
        "        os.kill(SERVER, signal.SIGSTOP)\n"
        "    return a + b\n"
    )


@pytest.fixture
def mbpp() -> Iterator[MBPPVerifier]:
    with build_verifier("mbpp", max_workers=1, use_cache=False, timeout=1) as verifier:
        yield verifier


def pid_of_tests_process(verifier: MBPPVerifier) -> int:
    """The pid of the process that runs the next sample's tests."""
    result = verifier.verify(HONEST, tests=["import os\nassert False, os.getpid()"])
    return int(result.metadata["failures"][0].rpartition("AssertionError: ")[2])


def assert_verdicts_hold(verifier: MBPPVerifier) -> None:
    assert verifier.verify(HONEST, tests=TESTS).reward == 1.0
    wrong = verifier.verify(WRONG, tests=TESTS)
    assert (wrong.success, wrong.metadata["tests_passed"]) == (False, 2), wrong.details


@pytest.mark.parametrize(
    "action",
    [
        "os.kill(TESTS, signal.SIGKILL)",
        "os.kill(TESTS, signal.SIGSTOP)",
        "os.killpg(0, signal.SIGKILL)",
        "os.kill(0, signal.SIGSTOP)",
    ],
    ids=["kill", "stop", "kill group", "stop group"],
)
def test_killing_or_stopping_the_tests_process_leaves_the_next_verdicts_right(
    mbpp: MBPPVerifier, action: str
) -> None:
    assert not mbpp.verify(while_tests_run(action), tests=TESTS).success
    assert_verdicts_hold(mbpp)


def test_a_tests_process_killed_after_its_sample_is_replaced(mbpp: MBPPVerifier) -> None:
    before = pid_of_tests_process(mbpp)
    assert mbpp.verify(once_tests_finish("SIGKILL"), tests=TESTS).reward == 1.0
    assert_verdicts_hold(mbpp)
    assert pid_of_tests_process(mbpp) != before


def test_a_tests_process_stopped_after_its_sample_is_resumed(mbpp: MBPPVerifier) -> None:
    before = pid_of_tests_process(mbpp)
    assert mbpp.verify(once_tests_finish("SIGSTOP"), tests=TESTS).reward == 1.0
    assert_verdicts_hold(mbpp)
    assert pid_of_tests_process(mbpp) == before  # resumed at once, not given up on and replaced


def test_signals_a_program_sends_the_tests_process_change_nothing(mbpp: MBPPVerifier) -> None:
    before = pid_of_tests_process(mbpp)
    signals = "SIGTERM SIGINT SIGHUP SIGUSR1 SIGALRM SIGPIPE SIGXCPU SIGTSTP SIGTTIN"
    action = f"for name in {signals.split()!r}:\n    os.kill(TESTS, getattr(signal, name))"
    assert mbpp.verify(while_tests_run(action), tests=TESTS).reward == 1.0
    assert_verdicts_hold(mbpp)
    assert pid_of_tests_process(mbpp) == before


CHANGES = {
    "open files limit": "import resource\nresource.prlimit(TESTS, resource.RLIMIT_NOFILE, (3, 3))",
    "address space limit": (
        "import resource\nresource.prlimit(TESTS, resource.RLIMIT_AS, (1 << 26, 1 << 26))"
    ),
    "priority": "os.setpriority(os.PRIO_PROCESS, TESTS, 19)",
    "affinity": "os.sched_setaffinity(TESTS, {min(os.sched_getaffinity(TESTS))})",
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_tests_process_changed_by_a_program_is_replaced(mbpp: MBPPVerifier, change: str) -> None:
    if "affinity" in change and len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: an affinity cannot be narrowed")
    before = pid_of_tests_process(mbpp)
    mbpp.verify(while_tests_run(change), tests=TESTS)
    assert_verdicts_hold(mbpp)
    assert pid_of_tests_process(mbpp) != before


def test_names_and_modules_of_one_sample_are_gone_for_the_next(mbpp: MBPPVerifier) -> None:
    before = pid_of_tests_process(mbpp)
    leave = [
        "import sys\nassert 'fractions' in sys.modules and 'calendar' not in sys.modules",
        "import calendar\ncalendar.left_behind = 'answer'\nleft_name = 'answer'",
        *TESTS,
    ]
    using_fractions = "import fractions\n" + HONEST  # the tests process imports it as well
    assert mbpp.verify(using_fractions, tests=leave).reward == 1.0
    look = [
        "import sys\nassert 'fractions' not in sys.modules and 'calendar' not in sys.modules",
        "assert 'left_name' not in globals()",
        "import calendar\nassert not hasattr(calendar, 'left_behind')",
        *TESTS,
    ]
    result = mbpp.verify(HONEST, tests=look)
    assert result.reward == 1.0, result.details
    assert pid_of_tests_process(mbpp) == before  # one process ran both


def test_a_program_object_kept_from_one_sample_fails_in_the_next(mbpp: MBPPVerifier) -> None:
    before = pid_of_tests_process(mbpp)
    box = "class Box:\n    def __call__(self):\n        return {!r}\nbox = Box()\n" + HONEST
    keep = ["assert box() == 'first'", "import sys\nsys.kept_box = box", *TESTS]
    assert mbpp.verify(box.format("first"), tests=keep).reward == 1.0
    use = [
        "import sys\nassert box() == 'second' and hasattr(sys, 'kept_box')",
        "import sys\n"
        "try:\n"
        "    outcome = sys.kept_box()\n"
        "except Exception as error:\n"
        "    outcome = type(error).__name__\n"
        "finally:\n"
        "    del sys.kept_box\n"
        "assert outcome == 'ProgramFailed', outcome",
        *TESTS,
    ]
    result = mbpp.verify(box.format("second"), tests=use)
    assert result.reward == 1.0, result.details
    assert pid_of_tests_process(mbpp) == before


def test_honest_verdicts_hold_over_many_samples_on_one_tests_process(
    mbpp: MBPPVerifier,
) -> None:
    before = pid_of_tests_process(mbpp)
    for number in range(30):
        if number % 2:
            result = mbpp.verify(WRONG, tests=TESTS)
            assert (result.success, result.metadata["tests_passed"]) == (False, 2), number
        else:
            assert mbpp.verify(HONEST, tests=TESTS).reward == 1.0, number
    assert pid_of_tests_process(mbpp) == before
