"""`halo-forge config validate` checks each `verifier:` section against the chosen verifier."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from halo_forge import ui
from halo_forge.cli.main import app

runner = CliRunner()


def validate(tmp_path: Path, text: str) -> tuple[int, str]:
    """Exit code and output of `config validate` on `text`, line wraps undone (problems are long)."""
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    ui.set_quiet(False)  # a fresh console bound to this invocation's captured stdout
    result = runner.invoke(app, ["config", "validate", str(path)])
    return result.exit_code, " ".join(result.output.split())


def test_a_bad_verifier_option_is_reported_with_its_key_and_exits_one(tmp_path: Path) -> None:
    code, output = validate(
        tmp_path, "raft: {num_cycles: 1}\nverifier: {type: gcc, run_timout: 2}\n"
    )
    assert code == 1, output
    assert "INVALID" in output and "1 invalid verifier setting(s) for RAFTConfig" in output
    assert "- verifier: unknown option 'run_timout' (allowed:" in output
    assert output.endswith("did you mean 'run_timeout'?")


def test_a_bad_option_value_and_an_unknown_type_are_reported(tmp_path: Path) -> None:
    code, output = validate(tmp_path, "samples: 4\nverifier: {type: gcc, run_timeout: -1}\n")
    assert code == 1
    assert "verifier: option 'run_timeout'=-1" in output
    code, output = validate(tmp_path, "samples: 4\nverifier: {type: humaneavl}\n")
    assert code == 1
    assert "verifier: unknown verifier 'humaneavl'" in output
    assert output.endswith("did you mean 'humaneval'?")


def test_cycle_overrides_are_checked_too(tmp_path: Path) -> None:
    code, output = validate(
        tmp_path,
        "raft:\n  num_cycles: 3\nverifier: {type: python}\ncycles:\n"
        "  - run_after_compile: true\n"
        "  - verifier: {type: gcc, flgs: [-O2]}\n"
        "  - verifier: {type: gcc}\n    run_after_compile: true\n",
    )
    assert code == 1
    assert "2 invalid verifier setting(s)" in output
    assert "cycles[1].verifier: unknown option 'flgs'" in output
    assert "did you mean 'flags'?" in output
    assert "cycles[0].run_after_compile: verifier 'python' has no run_after_compile" in output


def test_a_config_with_good_verifier_settings_is_ok(tmp_path: Path) -> None:
    code, output = validate(
        tmp_path,
        "raft:\n  num_cycles: 2\nverifier: {type: gcc, run_timeout: 2}\n"
        "cycles:\n  - run_after_compile: false\n  - verifier: {type: mbpp}\n",
    )
    assert code == 0, output
    assert output.startswith("OK")
