"""SubprocessVerifier (any command, sandboxed, never a shell) and ChainedVerifier."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import RewardLevel
from halo_forge.verifiers.cpp.compile import GCCVerifier
from halo_forge.verifiers.custom import ChainedVerifier, SubprocessVerifier
from halo_forge.verifiers.registry import build_verifier_from_config

PYTHON = sys.executable
HELLO = '#include <cstdio>\nint main() { std::printf("hi\\n"); }\n'


#: A review step as a command: fails programs that use `goto`. Inline, because the sandbox
#: gives commands a private /tmp, where a test's files would live.
NO_GOTO = [
    PYTHON,
    "-c",
    "import sys; source = open(sys.argv[1]).read(); sys.exit(1 if 'goto' in source else 0)",
    "{file}",
]


def test_exit_status_decides_without_a_pattern() -> None:
    verifier = SubprocessVerifier(f"{PYTHON} {{file}}", file_extension=".py")
    passed, failed = verifier.verify_batch(
        ["```python\nprint('fine')\n```", "```python\nraise SystemExit(3)\n```"]
    )
    assert (passed.success, passed.reward) == (True, 1.0)
    assert (failed.success, failed.reward) == (False, 0.0)
    assert failed.metadata["returncode"] == 3


def test_success_pattern_is_searched_in_the_output() -> None:
    verifier = SubprocessVerifier([PYTHON], success_pattern=r"^ALL \d+ OK$", file_extension=".py")
    good = verifier.verify("print('checking...')\nprint('ALL 3 OK')\n")
    bad = verifier.verify("print('ALL three OK')\n")
    assert good.success and not bad.success


def test_command_runs_in_a_clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "secret-token-value")
    verifier = SubprocessVerifier(
        [PYTHON, "{file}"], success_pattern="^token=None$", file_extension=".py"
    )
    result = verifier.verify("import os\nprint(f\"token={os.environ.get('HF_TOKEN')}\")\n")
    assert result.success, result.error


def test_template_is_never_run_by_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    verifier = SubprocessVerifier(f"{PYTHON} {{file}} ; touch {marker}", file_extension=".py")
    result = verifier.verify("import sys\nprint(sys.argv[1:])\n")
    assert result.success
    assert not marker.exists()


def test_timeout_fails_the_sample() -> None:
    verifier = SubprocessVerifier([PYTHON, "{file}"], file_extension=".py", timeout=1.0)
    result = verifier.verify("while True:\n    pass\n")
    assert not result.success and result.metadata["timed_out"] is True


def test_missing_command_is_reported_at_construction() -> None:
    with pytest.raises(VerifierError, match="not found on PATH"):
        SubprocessVerifier(["no-such-tool-anywhere", "{file}"])


def test_bad_options_name_the_option() -> None:
    with pytest.raises(VerifierError, match="success_pattern"):
        SubprocessVerifier([PYTHON], success_pattern="(unclosed")
    with pytest.raises(VerifierError, match=r"file_extension.*'\.py'"):
        SubprocessVerifier([PYTHON], file_extension="py")


def test_chain_stops_at_the_first_failing_stage() -> None:
    chain = ChainedVerifier([GCCVerifier(use_cache=False), SubprocessVerifier(NO_GOTO)])
    with chain:
        broken, uses_goto, good = chain.verify_batch(
            [
                "int main() { return 0 }\n",
                "int main() { goto end; end: return 0; }\n",
                HELLO,
            ]
        )
    assert broken.metadata["failed_stage"] == 0 and len(broken.metadata["stages"]) == 1
    assert broken.reward == RewardLevel.SYNTAX_ERROR
    assert uses_goto.metadata["failed_stage"] == 1 and not uses_goto.success
    assert uses_goto.reward == RewardLevel.COMPILE_CLEAN  # passing the compile still counts
    assert good.success and good.reward == 1.0
    assert [stage["success"] for stage in good.metadata["stages"]] == [True, True]


def test_chain_is_cached_only_when_every_stage_is() -> None:
    assert ChainedVerifier([GCCVerifier(), GCCVerifier(link=False)]).cache_fingerprint()
    mixed = ChainedVerifier([GCCVerifier(), SubprocessVerifier([PYTHON])])
    assert mixed.cache_fingerprint() is None


def test_chain_builds_from_a_config() -> None:
    chain = build_verifier_from_config(
        {
            "type": "chain",
            "stages": [
                {"type": "gcc", "use_cache": False},
                {"type": "subprocess", "command": NO_GOTO},
            ],
        }
    )
    assert isinstance(chain, ChainedVerifier)
    assert chain.verify(HELLO).reward == 1.0


def test_a_checker_script_outside_the_sandbox_view_runs_once_exposed(tmp_path: Path) -> None:
    checker = tmp_path / "checks" / "check.py"
    checker.parent.mkdir()
    checker.write_text("import sys\nsys.exit(0 if 'ok' in open(sys.argv[1]).read() else 1)\n")
    command = [PYTHON, str(checker), "{file}"]

    hidden = SubprocessVerifier(command).verify("ok")
    exposed = SubprocessVerifier(command, expose_paths=[checker.parent]).verify("ok")

    assert not hidden.success  # under bubblewrap the script's directory is not in the view
    assert exposed.success
    assert not SubprocessVerifier(command, expose_paths=[checker.parent]).verify("no").success
