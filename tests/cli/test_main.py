"""The root CLI: help, version, quiet mode, config validation and info, through the real entry point."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from halo_forge import __version__, ui
from halo_forge.cli.logfile import command_log
from halo_forge.cli.main import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def run_cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The installed entry point in a real subprocess (what a user types)."""
    return subprocess.run(
        [sys.executable, "-m", "halo_forge.cli.main", *arguments],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def test_version_prints_package_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"halo-forge {__version__}"


def test_help_lists_every_registered_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in app.registered_commands:
        assert command.name in result.output
    for group in app.registered_groups:
        assert group.name in result.output


def test_every_command_has_help_text() -> None:
    for command in app.registered_commands:
        assert (command.callback.__doc__ or "").strip(), f"{command.name} has no help text"
    for group in app.registered_groups:
        result = runner.invoke(app, [group.name, "--help"])
        assert result.exit_code == 0, result.output
        for sub in group.typer_instance.registered_commands:
            assert (sub.callback.__doc__ or "").strip(), f"{group.name} {sub.name} has no help text"


def test_config_validate_accepts_the_shipped_configs() -> None:
    configs = sorted(str(p) for p in (REPO / "configs").glob("*.yaml"))
    result = run_cli("config", "validate", *configs)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("OK") == len(configs)


def test_config_validate_rejects_a_typo_with_the_key_name(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("raft:\n  num_cycels: 3\n")
    result = run_cli("config", "validate", str(bad))
    assert result.returncode == 1
    assert "raft.num_cycels: unknown key" in result.stdout
    assert "num_cycles" in result.stdout


def test_config_validate_verbose_shows_defaults(tmp_path: Path) -> None:
    good = tmp_path / "sft.yaml"
    good.write_text("lora:\n  r: 8\n")
    result = runner.invoke(app, ["config", "validate", str(good), "--type", "sft", "--verbose"])
    assert result.exit_code == 0, result.output
    assert "r: 8" in result.output
    assert "max_seq_length: 1024" in result.output


def test_config_validate_wrong_type_choice_lists_allowed_values(tmp_path: Path) -> None:
    good = tmp_path / "sft.yaml"
    good.write_text("lora:\n  r: 8\n")
    result = run_cli("config", "validate", str(good), "--type", "ppo")
    assert result.returncode == 2
    assert "auto" in result.stderr and "raft" in result.stderr and "benchmark" in result.stderr


def test_info_reports_versions_toolchains_and_sandbox() -> None:
    result = run_cli("info")
    assert result.returncode == 0, result.stderr
    for expected in (
        "Python",
        "torch",
        "transformers",
        "Accelerator",
        "CPU cores",
        "g++",
        "Sandbox",
    ):
        assert expected in result.stdout
    assert "gcc (" in result.stdout  # gcc's own version line, found on PATH


def test_quiet_silences_the_terminal() -> None:
    loud = run_cli("config", "validate", str(REPO / "configs" / "sft_example.yaml"))
    quiet = run_cli("--quiet", "config", "validate", str(REPO / "configs" / "sft_example.yaml"))
    assert "OK" in loud.stdout
    assert quiet.returncode == 0 and quiet.stdout == ""


def test_command_log_keeps_everything_even_when_quiet(tmp_path: Path) -> None:
    ui.set_quiet(True)
    try:
        with command_log("verify", log_dir=tmp_path) as path:
            ui.echo("summary line")
            logging.getLogger("halo_forge.test").debug("debug detail")
    finally:
        ui.set_quiet(False)
    assert path.parent == tmp_path and path.name.startswith("verify_")
    text = path.read_text()
    assert "summary line" in text
    assert "debug detail" in text


def test_command_log_records_the_failure(tmp_path: Path) -> None:
    try:
        with command_log("benchmark", log_dir=tmp_path) as path:
            raise ValueError("disk on fire")
    except ValueError:
        pass
    assert "disk on fire" in path.read_text()


def test_an_error_prints_once_on_stderr_and_stays_in_the_log(tmp_path: Path) -> None:
    records = tmp_path / "completions.jsonl"
    records.write_text('{"completion": "int main() {}"}\n', encoding="utf-8")
    log_dir = tmp_path / "logs"

    result = subprocess.run(
        [
            *(sys.executable, "-m", "halo_forge.cli.main", "verify", str(records)),
            *("--output", str(tmp_path / "out.jsonl"), "--set", "bogus=1"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
        env={**os.environ, "HALO_FORGE_LOG_DIR": str(log_dir), "COLUMNS": "200"},
    )

    assert result.returncode == 1
    assert result.stdout.count("bogus") == 0, result.stdout
    assert result.stderr.count("unknown option 'bogus'") == 1, result.stderr
    assert "Traceback" not in result.stderr
    (log,) = log_dir.glob("verify_*.log")
    assert "command ended: VerifierError" in log.read_text(encoding="utf-8")
