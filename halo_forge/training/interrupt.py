"""Ctrl-C as a request to stop at the next safe point, shared by SFT training and RAFT cycles.

A long run killed in the middle of a step or a batch loses everything since its last save; a
request lets the work in flight finish and be written first.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from halo_forge import ui


class StopRequest:
    """Turns the first Ctrl-C (SIGINT) into a request to stop after the current unit of work.

    Work in flight finishes and is written, then `raise_if_requested` raises KeyboardInterrupt
    (or the caller checks `requested`). A second Ctrl-C interrupts at once. Outside the main
    thread no handler is installed. `after` names the unit in the message the user sees.
    """

    def __init__(self, after: str = "the current batch") -> None:
        self.requested = False
        self.after = after
        self._previous: Any = None

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        ui.echo(f"Ctrl-C: stopping after {self.after} (again to stop now)", style="yellow")

    def raise_if_requested(self) -> None:
        if self.requested:
            raise KeyboardInterrupt


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C after saving `checkpoint` at optimizer step `step`.

    A KeyboardInterrupt, so every caller that already handles Ctrl-C handles this one too; the
    checkpoint is what `--resume latest` (or `resume_from_checkpoint`) continues from.
    """

    def __init__(self, checkpoint: Path, step: int) -> None:
        super().__init__(f"training stopped at step {step}; checkpoint saved in {checkpoint}")
        self.checkpoint = checkpoint
        self.step = step
