"""`halo-forge test`: the checklist runs the real checks and its exit code follows them."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from halo_forge.cli import selftest_cmd

runner = CliRunner()
ROW = re.compile(r"\[(OK|FAIL)\] ")


def _app() -> typer.Typer:
    """The command as the root app registers it (`app.command("test")`)."""
    app = typer.Typer()
    app.command("test")(selftest_cmd.test)
    app.command("unused")(lambda: None)  # two commands keep `test` a named subcommand
    return app


def _rows(output: str) -> list[str]:
    """The checklist rows (a progress bar may share a row's line, so search, not match)."""
    return [line[match.start() :] for line in output.splitlines() if (match := ROW.search(line))]


def test_smoke_level_passes_every_check_with_timings() -> None:
    result = runner.invoke(_app(), ["test", "--level", "smoke"])

    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    assert len(rows) == 5
    assert all(row.startswith("[OK]") and re.search(r"\(\d+\.\d\d s\)", row) for row in rows)
    assert "Test Results: 5/5 passed" in result.output


def test_missing_compiler_is_a_failed_row_and_exit_code_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no gcc, no g++

    result = runner.invoke(_app(), ["test", "--level", "smoke"])

    assert result.exit_code == 1
    failed = [row for row in _rows(result.output) if row.startswith("[FAIL]")]
    assert any("compilers found" in row and "gcc" in row for row in failed)
    assert re.search(r"Test Results: [0-4]/5 passed", result.output)


def test_standard_level_loads_generates_and_verifies_with_the_tiny_model() -> None:
    result = runner.invoke(_app(), ["test", "--level", "standard"])

    assert result.exit_code == 0, result.output
    names = [row.split(" (")[0] for row in _rows(result.output)]
    assert names[-3:] == [
        "[OK]   model loading",
        "[OK]   generation",
        "[OK]   verification of generated code",
    ]
    assert "builtin:tiny-coder" in result.output
    assert "Test Results: 8/8 passed" in result.output


def test_unknown_level_is_refused() -> None:
    result = runner.invoke(_app(), ["test", "--level", "everything"])

    assert result.exit_code == 2
    assert "everything" in result.output
