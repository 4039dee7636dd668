"""The fork server's side of the report channel: records are parsed and every token checked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict

import pytest

from halo_forge.verifiers.python.report_channel import RecordReader
from halo_forge.verifiers.python.runner import ForkServerPool
from halo_forge.verifiers.sandbox import SandboxLimits

TOKEN = bytes(range(16))
KINDS = frozenset({b"P", b"F", b"N", b"E", b"D"})


def record(kind: bytes, index: int, message: bytes = b"", token: bytes = TOKEN) -> bytes:
    return b"%s %d %d\n" % (kind, index, len(message)) + message + token


def reader() -> RecordReader:
    return RecordReader(TOKEN, len(TOKEN), KINDS)


def test_records_with_the_token_are_kept_until_done() -> None:
    parsed = reader()
    parsed.feed(record(b"P", 0) + record(b"F", 1, b"AssertionError") + record(b"D", 0), b"D")
    assert parsed.records == [["P", 0, ""], ["F", 1, "AssertionError"], ["D", 0, ""]]
    assert parsed.done and parsed.tampered is None


def test_a_record_split_across_reads_is_reassembled() -> None:
    parsed = reader()
    data = record(b"F", 2, "é failed".encode())
    for position in range(len(data)):
        parsed.feed(data[position : position + 1], b"D")
    assert parsed.records == [["F", 2, "é failed"]]


def test_a_wrong_token_marks_the_run_as_tampered_and_stops_parsing() -> None:
    parsed = reader()
    parsed.feed(record(b"P", 0, token=bytes(16)) + record(b"P", 1), b"D")
    assert parsed.records == []
    assert "token" in parsed.tampered


@pytest.mark.parametrize(
    "garbage",
    [b"X 0 0\n", b"P zero 0\n", b"P 0\n", b"x" * 100, b"P 0 -1\n"],
    ids=["kind", "index", "fields", "no newline", "length"],
)
def test_malformed_records_mark_the_run_as_tampered(garbage: bytes) -> None:
    parsed = reader()
    parsed.feed(garbage, b"D")
    assert parsed.tampered is not None


def test_a_flood_of_bytes_marks_the_run_as_tampered() -> None:
    parsed = reader()
    for _ in range(5):
        parsed.feed(record(b"F", 0, b"x" * 1_000_000), b"D")
    assert "flooded" in parsed.tampered


LIMITS = SandboxLimits(wall_timeout_s=3.0, memory_limit_mb=512)


@pytest.fixture(scope="module")
def pool() -> Iterator[ForkServerPool]:
    with ForkServerPool(1, LIMITS) as pool:
        yield pool


def run_script(pool: ForkServerPool, code: str, stdin: str = "") -> dict:
    return pool.run({"mode": "script", "code": code, "stdin": stdin, "limits": asdict(LIMITS)})


def test_script_mode_captures_stdout_and_stderr_and_reads_stdin(pool: ForkServerPool) -> None:
    response = run_script(
        pool,
        "import sys\nname = input()\nprint(f'hi {name}')\nprint('warn', file=sys.stderr)\n",
        "ada\n",
    )
    assert response["records"] == [["P", 0, ""], ["D", 0, ""]]
    assert response["stdout"] == "hi ada\n"
    assert response["stderr"] == "warn\n"


def test_script_mode_output_is_capped(pool: ForkServerPool) -> None:
    limits = asdict(SandboxLimits(wall_timeout_s=3.0, max_output_bytes=1000))
    response = pool.run({"mode": "script", "code": "print('x' * 5000)", "limits": limits})
    assert response["output_truncated"] is True
    assert len(response["stdout"]) == 1000


def test_the_deadline_kills_the_child_and_says_so(pool: ForkServerPool) -> None:
    limits = asdict(SandboxLimits(wall_timeout_s=0.5))
    response = pool.run({"mode": "script", "code": "while True:\n    pass\n", "limits": limits})
    assert response["timed_out"] is True
    assert response["records"] == []
    assert run_script(pool, "print(1)")["stdout"] == "1\n"  # the server goes on


def test_each_sample_starts_in_an_empty_directory_that_is_its_home(pool: ForkServerPool) -> None:
    leaving = (
        "import os\n"
        "open('left.txt', 'w').write('x')\n"
        "os.mkdir('locked')\n"
        "open('locked/inside.txt', 'w').write('x')\n"
        "os.chmod('locked', 0)\n"  # cannot be emptied by its owner: moved out of the way instead
        "os.chmod('.', 0)\n"
    )
    assert run_script(pool, leaving)["records"][0][0] == "P"
    looking = (
        "import os, tempfile\n"
        "print(os.listdir('.'), os.getcwd() == os.environ['HOME'] == tempfile.gettempdir())\n"
    )
    assert run_script(pool, looking)["stdout"] == "[] True\n"


def test_nothing_a_sample_writes_survives_it(pool: ForkServerPool) -> None:
    """One server runs both samples (same /tmp); the first leaves files wherever it can."""
    leave = (
        "import os\n"
        "for path in ('/tmp/marker', 'marker', '../marker', '/dev/shm/marker', '/run/marker'):\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "    except OSError:\n"
        "        pass\n"
        "os.makedirs('/tmp/deep/er', exist_ok=True)\n"
        "open('/tmp/deep/er/marker', 'w').write('x')\n"
        "os.chmod('/tmp/deep', 0)\n"
    )
    assert run_script(pool, leave)["records"][0][0] == "P"
    look = (
        "import glob\n"
        "print(sorted(glob.glob('/tmp/**/marker', recursive=True) + glob.glob('*marker')\n"
        "      + glob.glob('../marker') + glob.glob('/dev/shm/*') + glob.glob('/run/*')\n"
        "      + glob.glob('/tmp/deep')))\n"
    )
    assert run_script(pool, look)["stdout"] == "[]\n"
