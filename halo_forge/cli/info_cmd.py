"""`halo-forge info`: what this machine offers (versions, accelerator, toolchains, sandbox, extras)."""

from __future__ import annotations

from rich.table import Table

from halo_forge import ui
from halo_forge.system_info import collect_system_info


def info() -> None:
    """Show Python/torch/transformers versions, the accelerator, compilers, sandbox protections and extras."""
    system = collect_system_info()

    overview = Table(title="halo-forge environment", show_header=False)
    overview.add_column("item", style="bold")
    overview.add_column("value")
    overview.add_row("Python", f"{system.python} ({system.platform})")
    for package, version in system.packages.items():
        overview.add_row(package, version or "[red]not installed[/red]")
    accelerator = system.accelerator
    memory = f", {accelerator.memory_gb} GiB" if accelerator.memory_gb else ""
    overview.add_row("Accelerator", f"{accelerator.kind}: {accelerator.name}{memory}")
    overview.add_row("CPU cores", str(system.cpu_cores))
    overview.add_row("RAM", f"{system.ram_gb} GiB" if system.ram_gb else "unknown")
    ui.echo(overview)

    toolchains = Table(title="Toolchains on PATH")
    toolchains.add_column("tool", style="bold")
    toolchains.add_column("version")
    for label, version in system.toolchains.items():
        toolchains.add_row(label, version or "[yellow]not found[/yellow]")
    ui.echo(toolchains)

    sandbox = Table(title="Sandbox protections for untrusted code")
    sandbox.add_column("protection", style="bold")
    sandbox.add_column("mechanism")
    sandbox.add_column("active")
    for protection, mechanism, active in system.sandbox:
        sandbox.add_row(protection, mechanism, "[green]yes[/green]" if active else "[red]NO[/red]")
    ui.echo(sandbox)
    for warning in system.sandbox_warnings:
        ui.echo(f"[yellow]warning:[/yellow] {warning}")

    extras = Table(title="Optional extras (pip install 'halo-forge[NAME]')")
    extras.add_column("extra", style="bold")
    extras.add_column("installed")
    for extra, installed in system.extras.items():
        extras.add_row(extra, "yes" if installed else "no")
    ui.echo(extras)
