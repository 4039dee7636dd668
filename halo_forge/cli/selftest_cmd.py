"""`halo-forge test`: the self-test checklist, `[OK]` / `[FAIL]` per row, exit 1 on any failure."""

from __future__ import annotations

from enum import Enum

import typer
from rich.text import Text

from halo_forge import ui


class TestLevel(str, Enum):
    """How much of the installation to check (each level includes the one before)."""

    __test__ = False  # a CLI choice, not a pytest test class

    smoke = "smoke"
    standard = "standard"
    full = "full"


def test(
    level: TestLevel = typer.Option(
        TestLevel.smoke,
        "--level",
        help="smoke: no model, seconds; standard: load, generate, verify; full: + RAFT cycle.",
    ),
    model: str | None = typer.Option(
        None, "--model", help="Model for standard/full (default: the embedded tiny model)."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show tracebacks of failures."),
) -> None:
    """Check that this installation works: imports, compilers, verifiers, sandbox, model."""
    from halo_forge.selftest import CheckResult, checks_for, run_checks

    def show(result: CheckResult) -> None:
        row = Text()
        row.append(
            "[OK]  " if result.passed else "[FAIL]", style="green" if result.passed else "red"
        )
        row.append(f" {result.name} ({result.seconds:.2f} s): {result.detail}")
        ui.echo(row)
        if verbose and result.traceback:
            ui.echo(Text(result.traceback))

    results = run_checks(checks_for(level.value, model), on_result=show)
    passed = sum(result.passed for result in results)
    ui.echo(
        Text(f"Test Results: {passed}/{len(results)} passed"),
        style="green" if passed == len(results) else "red",
    )
    if passed != len(results):
        raise typer.Exit(1)
