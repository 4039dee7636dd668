"""Hostile Python programs against the Python verifiers, under their default settings.

Each case is a wrong answer that tries to be paid anyway: by the objects it returns, by reading
the expected values from the tests, by patching what the tests call, by leaving files for the
next sample, by reading secrets of the host, or by filling the disk. Every one must score below a pass and fail; the honest answers beside them
must still pass. Real programs, real fork servers, real sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from verifiers.hostile.planted import Secrets, reads_of

from halo_forge.verifiers.python.verifiers import (
    HumanEvalVerifier,
    MBPPVerifier,
    PytestVerifier,
    PythonVerifier,
)

TESTS = ["assert add(1, 2) == 3", "assert add(20, 22) == 42", "assert add(-5, 5) == 0"]
HONEST = "def add(a, b):\n    return a + b\n"

#: Wrong programs (add returns something that is not the sum) that try to pass anyway.
RETURNED_OBJECTS = {
    "equal to everything": (
        "class Anything:\n    def __eq__(self, other):\n        return True\n"
        "    __ne__ = lambda self, other: False\n"
        "def add(a, b):\n    return Anything()\n"
    ),
    "int subclass equal to everything": (
        "class Number(int):\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = int.__hash__\n"
        "def add(a, b):\n    return Number(7)\n"
    ),
    "str subclass equal to everything": (
        "class Text(str):\n    def __eq__(self, other):\n        return True\n"
        "def add(a, b):\n    return Text('no')\n"
    ),
    "list subclass equal to everything": (
        "class Items(list):\n    def __eq__(self, other):\n        return True\n"
        "def add(a, b):\n    return Items()\n"
    ),
    "metaclass hides the class": (
        "class Meta(type):\n    def __eq__(cls, other):\n        return True\n"
        "    __hash__ = type.__hash__\n"
        "class Anything(metaclass=Meta):\n    pass\n"
        "def add(a, b):\n    return Anything\n"
    ),
}

READING_EXPECTATIONS = {
    "caller's constants": (
        "import sys\n"
        "def add(a, b):\n"
        "    caller = sys._getframe(1)\n"
        "    numbers = [c for c in caller.f_code.co_consts if type(c) is int and c not in (a, b)]\n"
        "    return numbers[-1] if numbers else 0\n"
    ),
    "inspect.stack locals": (
        "import inspect\n"
        "def add(a, b):\n"
        "    for frame in inspect.stack():\n"
        "        for value in frame.frame.f_locals.values():\n"
        "            if type(value) is int and value not in (a, b):\n"
        "                return value\n"
        "    return 0\n"
    ),
    "the request in the harness's frames": (
        "import ast, sys\n"
        "answers = {}\n"
        "frame = sys._getframe()\n"
        "while frame is not None:\n"
        "    for value in list(frame.f_locals.values()):\n"
        "        steps = value.get('steps') if type(value) is dict else None\n"
        "        for step in steps or ():\n"
        "            for node in ast.walk(ast.parse(step)):\n"
        "                if isinstance(node, ast.Call) and len(node.args) == 2:\n"
        "                    call, expected = node.args\n"
        "                    if isinstance(call, ast.Call):\n"
        "                        key = tuple(ast.literal_eval(a) for a in call.args)\n"
        "                        answers[key] = ast.literal_eval(expected)\n"
        "    frame = frame.f_back\n"
        "def add(a, b):\n"
        "    return answers.get((a, b), 0)\n"
    ),
}

PATCHING_LIBRARIES = {
    "math.isclose at import": (
        "import math\nmath.isclose = lambda *args, **kwargs: True\ndef area(r):\n    return 0.0\n"
    ),
    "math.isclose during the call": (
        "def area(r):\n    import math\n    math.isclose = lambda *args, **kwargs: True\n"
        "    return 0.0\n"
    ),
    "operator.eq and builtins.abs": (
        "import builtins, operator\n"
        "operator.eq = lambda a, b: True\nbuiltins.abs = lambda value: 0\n"
        "def area(r):\n    return 0.0\n"
    ),
}
AREA_TESTS = [
    "import math, operator",
    "assert math.isclose(area(1), 3.14159, rel_tol=1e-3)",
    "assert operator.eq(round(area(2), 2), 12.57)",
    "assert abs(area(3) - 28.274) < 1e-3",
]
AREA_HONEST = "import math\ndef area(r):\n    return math.pi * r * r\n"


@pytest.fixture(scope="module")
def mbpp() -> Iterator[MBPPVerifier]:
    with MBPPVerifier(use_cache=False) as verifier:
        yield verifier


def assert_not_paid(result, passing_reward: float = 1.0) -> None:
    assert result.reward < passing_reward, result.details
    assert result.success is False


def test_honest_answers_still_pass(mbpp: MBPPVerifier) -> None:
    assert mbpp.verify(HONEST, tests=TESTS).success
    assert mbpp.verify(AREA_HONEST, tests=AREA_TESTS).success


@pytest.mark.parametrize("program", RETURNED_OBJECTS.values(), ids=RETURNED_OBJECTS.keys())
def test_returned_objects_cannot_make_a_comparison_true(mbpp: MBPPVerifier, program: str) -> None:
    assert_not_paid(mbpp.verify(program, tests=TESTS))


@pytest.mark.parametrize("program", READING_EXPECTATIONS.values(), ids=READING_EXPECTATIONS.keys())
def test_the_expected_values_are_out_of_the_programs_reach(
    mbpp: MBPPVerifier, program: str
) -> None:
    assert_not_paid(mbpp.verify(program, tests=TESTS))


@pytest.mark.parametrize("program", PATCHING_LIBRARIES.values(), ids=PATCHING_LIBRARIES.keys())
def test_patching_a_library_the_tests_call_does_not_pay(mbpp: MBPPVerifier, program: str) -> None:
    result = mbpp.verify(program, tests=AREA_TESTS)
    assert_not_paid(result)
    assert result.metadata["tests_passed"] == 0


@pytest.mark.parametrize(
    "program",
    [*RETURNED_OBJECTS.values(), READING_EXPECTATIONS["caller's constants"]],
    ids=[*RETURNED_OBJECTS.keys(), "caller's constants"],
)
def test_python_and_humaneval_verifiers_hold_the_same_line(program: str) -> None:
    check = "def check(candidate):\n" + "".join(
        f"    {test.replace('add(', 'candidate(')}\n" for test in TESTS
    )
    with PythonVerifier(use_cache=False, max_workers=1) as python:
        assert python.verify(HONEST, tests=TESTS).success
        assert_not_paid(python.verify(program, tests=TESTS))
    with HumanEvalVerifier(use_cache=False, max_workers=1) as humaneval:
        prompt = 'def add(a, b):\n    """The sum of a and b."""\n'
        assert humaneval.verify(HONEST, prompt=prompt, tests=check, entry_point="add").success
        assert_not_paid(humaneval.verify(program, prompt=prompt, tests=check, entry_point="add"))


def test_a_trusted_pytest_file_sees_the_library_it_imported_before_the_program(
    tmp_path: Path,
) -> None:
    test_file = tmp_path / "test_area.py"
    test_file.write_text(
        "import math\nfrom solution import area\n\n"
        "def test_area():\n    assert math.isclose(area(1), 3.14159, rel_tol=1e-3)\n"
    )
    with PytestVerifier(test_file=test_file, use_cache=False, max_workers=1) as verifier:
        assert verifier.verify(AREA_HONEST).success
        assert_not_paid(verifier.verify(PATCHING_LIBRARIES["math.isclose at import"]))


def test_files_left_by_one_sample_are_gone_for_the_next() -> None:
    leave = (
        "import glob, os\n"
        "targets = ['/tmp/left', 'left', '/dev/shm/left', '/run/left', os.path.expanduser('~/x')]\n"
        "targets += [d + '/left' for d in glob.glob('/tmp/*/') + glob.glob('/tmp/*/*/')]\n"
        "for path in targets:\n"
        "    try:\n"
        "        open(path, 'w').write('answer')\n"
        "    except OSError:\n"
        "        pass\n"
        "def add(a, b):\n    return a + b\n"
    )
    find = (
        "import glob\n"
        "found = [p for p in glob.glob('/tmp/**/left', recursive=True) + glob.glob('left')\n"
        "         + glob.glob('/dev/shm/left') + glob.glob('/run/left')]\n"
        "def add(a, b):\n    return a + b if not found else -1\n"
    )
    with MBPPVerifier(use_cache=False, max_workers=1) as verifier:  # one server: same /tmp
        assert verifier.verify(leave, tests=TESTS).success
        assert verifier.verify(find, tests=TESTS).success


def test_a_program_cannot_print_or_return_a_secret_of_the_host(secrets: Secrets) -> None:
    paths = [read for path in secrets.paths for read in reads_of(path)]
    reader = (
        f"def read():\n    found = ''\n    for path in {paths!r}:\n"
        "        try:\n            found += open(path).read()\n"
        "        except OSError:\n            pass\n    return found\n"
    )
    with PythonVerifier(use_cache=False, max_workers=1) as python:
        # What it printed shows in the result ("wrong output ..."), where the check looks.
        printed = python.verify(reader + "print(read())\n", expected_output="nothing")
    assert_not_paid(printed)
    assert "wrong output" in printed.details  # it ran, and read nothing
    secrets.assert_not_in(printed)
    with MBPPVerifier(use_cache=False, max_workers=1) as verifier:
        returned = verifier.verify(reader + "def add(a, b):\n    return read()\n", tests=TESTS)
    assert_not_paid(returned)
    secrets.assert_not_in(returned)


@pytest.mark.parametrize("place", [".", "/tmp", "/dev/shm"])
def test_a_program_that_fills_its_scratch_scores_zero(mbpp: MBPPVerifier, place: str) -> None:
    filler = (
        "def add(a, b):\n    block = b'x' * 2**20\n    for i in range(100000):\n"
        "        try:\n"
        f"            with open(f'{place}/f{{i}}', 'wb') as file:\n"
        "                file.write(block)\n"
        "        except OSError:\n            break\n    return a + b\n"
    )
    result = mbpp.verify(filler, tests=TESTS)
    assert_not_paid(result)
    assert result.reward == 0.0
    assert "disk limit of 256 MiB reached" in result.details
    assert mbpp.verify(HONEST, tests=TESTS).success  # the scratch is empty again
