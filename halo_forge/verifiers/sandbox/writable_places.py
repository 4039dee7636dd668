"""The places a sandboxed server's runs can write, put back after each run.

The Python fork servers and the run servers of built programs (`run_server`) hand one
sandbox to many samples, one at a time. A server's samples can write to its own directory
and, under bubblewrap, to its private /tmp and /dev/shm. `WritablePlaces` records what each held when the server started and, after
every sample, removes every path that was not there then (`restore`), so that the next sample
finds no file of the last one's. Standard library only: this runs in the small servers.
"""

from __future__ import annotations

import contextlib
import os
import stat


class WritablePlaces:
    """Directories that each sample may write, and the paths under them to keep."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = [(root, os.lstat(root).st_dev) for root in roots]
        self.keep = frozenset(path for root, device in self.roots for path in _tree(root, device))

    def restore(self) -> None:
        """Remove everything under the roots that was not there when the server started."""
        for root, device in self.roots:
            _restore_tree(root, device, self.keep)


def _tree(root: str, device: int) -> list[str]:
    """Every path under `root` on its own file system (what the server started with)."""
    paths = []
    pending = [root]
    while pending:
        with contextlib.suppress(OSError), os.scandir(pending.pop()) as entries:
            for entry in entries:
                paths.append(entry.path)
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode) and info.st_dev == device:
                    pending.append(entry.path)
    return paths


def _restore_tree(directory: str, device: int, keep: frozenset[str]) -> None:
    """Remove everything under `directory` but the paths in `keep`, without crossing into
    another file system (a tool bound under /tmp); a directory the sample made unreadable is
    made readable first (its owner may)."""
    try:
        entries = list(os.scandir(directory))
    except PermissionError:
        try:
            os.chmod(directory, 0o700)
            entries = list(os.scandir(directory))
        except OSError:
            return
    except OSError:
        return
    for entry in entries:
        path = entry.path
        try:
            info = entry.stat(follow_symlinks=False)
            if info.st_dev != device:
                continue
            if stat.S_ISDIR(info.st_mode):
                _restore_tree(path, device, keep)
                if path not in keep:
                    os.rmdir(path)
            elif path not in keep:
                os.unlink(path)
        except OSError:
            continue


class Scratch:
    """A server's directory for one sample or run at a time, and everything the run may write.

    Each run works in `<scratch>/<name>` (one at a time, so one path serves all), made empty
    before it (`enter`); HOME and TMPDIR point there once, in the server, and each child
    inherits them with its working directory. After it (`leave`) every writable place goes
    back to what it held when the server started; before that, `filled` says whether the run
    left a capped place (a tmpfs of the disk limit) without a free block.
    """

    def __init__(
        self, scratch: str, name: str, writable_roots: list[str], capped_roots: list[str]
    ) -> None:
        self.scratch = scratch
        self.directory = f"{scratch}/{name}"
        self.capped_roots = capped_roots
        self.writable = WritablePlaces(writable_roots)
        self.uses = 0
        os.environ["HOME"] = os.environ["TMPDIR"] = self.directory

    def enter(self) -> None:
        """Make the run's empty directory and work in it."""
        self.uses += 1
        try:
            os.mkdir(self.directory, 0o700)
        except FileExistsError:  # the last run's could not be removed: out of the way
            os.rename(self.directory, f"{self.scratch}/abandoned-{self.uses}")
            os.mkdir(self.directory, 0o700)
        os.chdir(self.directory)

    def filled(self) -> bool:
        """Whether a capped place has no free block left."""
        return any(os.statvfs(root).f_bavail == 0 for root in self.capped_roots)

    def leave(self) -> None:
        """Put every writable place back as it was when the server started."""
        os.chdir(self.scratch)
        self.writable.restore()


def fresh_directory(parent: str, prefix: str) -> str:
    """A new directory `<parent>/<prefix><pid>-<n>`, private to this user.

    Not `tempfile.mkdtemp`: `tempfile` imports `random`, whose fork hook reseeds every child.
    """
    for number in range(1000):
        path = f"{parent}/{prefix}{os.getpid()}-{number}"
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free directory name {prefix}* under {parent}")
