"""Every training, benchmark or verification command writes its whole output to a log file.

`logs/<command>_<YYYYmmdd_HHMMSS>.log` (`..._rankN.log` per process of a multi-process launch)
receives everything `ui.echo` prints and every record
of the `halo_forge` logger at DEBUG, also under `--quiet`, so a run can be audited afterwards.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from rich.logging import RichHandler

from halo_forge import ui
from halo_forge.distributed import rank, world_size

LOG_DIR_ENV = "HALO_FORGE_LOG_DIR"


def log_path_for(command: str, log_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the log of `command` started now goes (`$HALO_FORGE_LOG_DIR` or ./logs)."""
    directory = Path(log_dir or os.environ.get(LOG_DIR_ENV, "logs"))
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    # The processes of a multi-process launch start together: each keeps its own log.
    name = f"{command.replace(' ', '_')}_{stamp}" + (f"_rank{rank()}" if world_size() > 1 else "")
    path = directory / f"{name}.log"
    suffix = 1
    while path.exists():  # two commands in the same second keep separate logs
        path = directory / f"{name}_{suffix}.log"
        suffix += 1
    return path


@contextmanager
def command_log(command: str, log_dir: str | os.PathLike[str] | None = None) -> Iterator[Path]:
    """Route the output of one CLI command to its log file for the duration of the block."""
    path = log_path_for(command, log_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("halo_forge")
    logger.setLevel(logging.DEBUG)
    file_handler = logging.FileHandler(path, encoding="utf-8")
    file_handler.setLevel(logging.DEBUG)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    terminal_handler = RichHandler(console=ui.console(), show_path=False, markup=False)
    terminal_handler.setLevel(logging.WARNING if ui.is_quiet() else logging.INFO)
    logger.addHandler(file_handler)
    logger.addHandler(terminal_handler)
    ui.attach_log(path)
    logger.debug("command: %s", command)
    try:
        yield path
    except BaseException as error:
        # The log file gets the failure; the terminal gets it once, from `main` (on stderr),
        # so the handler that mirrors the log on the terminal is detached first.
        logger.removeHandler(terminal_handler)
        logger.error("command ended: %s", _ending(error))
        raise
    finally:
        ui.attach_log(None)
        logger.removeHandler(file_handler)
        logger.removeHandler(terminal_handler)
        file_handler.close()


def _ending(error: BaseException) -> str:
    """How a command ended, in words: an exit status, an interruption or the error itself."""
    if isinstance(error, click.exceptions.Exit):
        return f"exit status {error.exit_code}"
    if isinstance(error, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    return f"{type(error).__name__}: {error}"
