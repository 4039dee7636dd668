"""Entry point of the `halo-forge` command: the root app, global options and error handling."""

from __future__ import annotations

import sys

import typer

from halo_forge import __version__, ui
from halo_forge.distributed import is_main_process
from halo_forge.errors import INTERRUPTED_EXIT_CODE, HaloForgeError

app = typer.Typer(
    name="halo-forge",
    help=(
        "Train code-generating language models with verifiable rewards.\n\n"
        "Pipeline: data -> sft -> raft (or grpo) -> benchmark. A compiler or a test suite scores "
        "every generated program; RAFT fine-tunes on the best-scoring ones, GRPO on each "
        "sample's reward relative to its group."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"halo-forge {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print only warnings and errors; log files stay complete."
    ),
) -> None:
    """Global options, applied before any command runs.

    Under `torchrun` / `accelerate launch` only the main process prints progress: the others
    would repeat it (their log files stay complete).
    """
    ui.set_quiet(quiet or not is_main_process())


def _register_commands() -> None:
    """Attach every command group; imports stay inside so `--help` never loads torch."""
    from halo_forge.cli import (
        benchmark_cmd,
        config_cmd,
        data_cmd,
        data_generate_cmd,
        demo_cmd,
        grpo_cmd,
        info_cmd,
        model_cmd,
        raft_cmd,
        selftest_cmd,
        sft_cmd,
        verify_cmd,
    )

    app.command("demo")(demo_cmd.demo)
    data_cmd.app.command("generate")(data_generate_cmd.generate)
    app.add_typer(data_cmd.app, name="data")
    app.add_typer(sft_cmd.app, name="sft")
    app.add_typer(raft_cmd.app, name="raft")
    app.add_typer(grpo_cmd.app, name="grpo")
    app.add_typer(model_cmd.app, name="model")
    app.command("verify")(verify_cmd.verify)
    app.add_typer(benchmark_cmd.app, name="benchmark")
    app.add_typer(config_cmd.app, name="config")
    app.command("info")(info_cmd.info)
    app.command("test")(selftest_cmd.test)


_register_commands()


def main() -> None:
    """Run the CLI; errors print once, on stderr, without a traceback.

    A HaloForgeError prints its message (which says the fix) and exits 1; Ctrl-C that a
    command did not handle itself exits 130 with one line (commands that keep finished work
    say what they kept and how to resume before they exit).
    """
    try:
        app()
    except HaloForgeError as error:
        typer.secho(f"Error: {error}", fg=typer.colors.RED, err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.secho("interrupted", fg=typer.colors.YELLOW, err=True)
        sys.exit(INTERRUPTED_EXIT_CODE)


if __name__ == "__main__":
    main()
