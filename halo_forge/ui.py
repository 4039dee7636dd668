"""Terminal output shared by the library and the CLI.

Long work (generation, verification, training) shows a rich progress bar; `--quiet` silences the
terminal but never the command's log file. The CLI sets the mode once with `set_quiet`; library
code asks for `console()` and `progress()` and does not care which mode is on.
"""

from __future__ import annotations

import os

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

_quiet = False
_console: Console | None = None
_log_console: Console | None = None


def set_quiet(quiet: bool) -> None:
    """Silence (or restore) terminal output for this process."""
    global _quiet, _console
    _quiet = quiet
    _console = None


def is_quiet() -> bool:
    return _quiet


def console() -> Console:
    """The process-wide terminal console (writes nowhere when quiet)."""
    global _console
    if _console is None:
        # file=None makes rich look up sys.stdout at each print, so a console created under a
        # redirected stdout (tests, notebooks) keeps working after the redirection ends.
        _console = Console(
            file=open(os.devnull, "w") if _quiet else None,  # noqa: SIM115 - lives as long as the process
            highlight=False,
        )
    return _console


def attach_log(path: str | os.PathLike[str] | None) -> None:
    """Copy everything `echo` prints into a plain-text log file (None detaches)."""
    global _log_console
    if _log_console is not None:
        _log_console.file.close()
    _log_console = None
    if path is not None:
        _log_console = Console(
            file=open(path, "a", encoding="utf-8"),  # noqa: SIM115 - closed by the next attach_log
            width=120,
            color_system=None,
            force_terminal=False,
            highlight=False,
        )


def echo(*objects: object, style: str | None = None) -> None:
    """Print to the terminal (unless quiet) and to the command's log file (always)."""
    console().print(*objects, style=style)
    if _log_console is not None:
        _log_console.print(*objects, style=style)
        _log_console.file.flush()


def progress(transient: bool = False, shown: bool = True) -> Progress:
    """A progress bar with count, rate-friendly columns and ETA; disabled when quiet, not a
    TTY or not `shown` (a disabled bar prints nothing at all, not even its last line)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console(),
        transient=transient,
        disable=_quiet or not shown,
    )
