"""Precompiled headers for the include lines programs start with.

Parsing `<bits/stdc++.h>` costs 0.7-2 s per program and `<iostream>` about 0.15 s, far more
than the program itself; a precompiled header (PCH) brings that down to a load. A PCH is
used only where the compile means exactly the same thing with and without it:

- the program starts with system `#include <...>` lines and nothing else before them but
  blank lines and comments (no macro, no pragma, no code). Those lines are its *prefix*;
- the PCH holds the first k headers of that prefix (all of them, or fewer), in that order,
  and is passed with `-include prefix.h`: the compiler reads the same headers in the same
  order before the same first token; the program's own lines for those k headers become
  no-ops behind the headers' include guards, and its further includes are read as usual;
- it was built by the same compiler with the same flags (the directory is keyed by both).

GCC also checks a PCH itself and silently reads `prefix.h` instead if the PCH does not fit.

PCHs are built per batch (`plan`): each program is counted under the longest leading part
of its prefix that at least `min_programs` programs of the batch share, and those parts get
a PCH, the most shared first, at most `max_headers` per compiler and flag set (a PCH is
20-100 MB). A program then uses the longest PCH that its prefix starts with. They persist under `<cache dir>/pch/` and are reused by later batches and runs;
delete that folder to reclaim the space. The build runs in the sandbox like any compile,
allowed to write only its own PCH directory, and lands atomically (temporary file + rename).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from halo_forge.errors import VerifierError
from halo_forge.verifiers.build.toolchain import COMPILER_ENVIRONMENT
from halo_forge.verifiers.sandbox import Sandbox, SandboxLimits

logger = logging.getLogger(__name__)

_SYSTEM_INCLUDE = re.compile(
    r"[ \t]*#[ \t]*include[ \t]*<(?P<header>[A-Za-z0-9_./+-]+)>[ \t\r]*(?://[^\n]*)?"
)
_LINE_COMMENT = re.compile(r"[ \t]*//[^\n]*")
_BLOCK_COMMENT = re.compile(r"[ \t]*/\*.*?\*/[ \t]*", re.DOTALL)


def leading_system_includes(code: str) -> tuple[str, ...]:
    """System headers a program includes before its first other token, in order.

    Blank lines and comments may sit between them; anything else (a macro, a pragma, a
    quoted include, a line continuation, code) ends the prefix.
    """
    headers: list[str] = []
    position = 0
    while position < len(code):
        end = code.find("\n", position)
        end = len(code) if end == -1 else end
        line = code[position:end]
        if not line.strip():
            position = end + 1
            continue
        block = _BLOCK_COMMENT.match(code, position)
        if block is not None and (block.end() == len(code) or code[block.end()] == "\n"):
            position = block.end() + 1
            continue
        if line.endswith("\\"):
            break
        if _LINE_COMMENT.fullmatch(line):
            position = end + 1
            continue
        include = _SYSTEM_INCLUDE.fullmatch(line)
        if include is None:
            break
        headers.append(include["header"])
        position = end + 1
    return tuple(headers)


def _digest(parts: Iterable[str]) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:24]


class PrecompiledHeaders:
    """Build, find and hand out precompiled prefixes for one compiler and one flag set.

    `identity` is everything that must match between building and using a PCH: compiler
    path and version, and the flags (language standard, optimisation, warnings, defines).
    """

    def __init__(
        self,
        *,
        compiler: str,
        flags: Sequence[str],
        identity: Sequence[str],
        header_language: str,
        pch_suffix: str,
        directory: Path,
        build_timeout_s: float,
        min_programs: int = 4,
        max_headers: int = 8,
    ) -> None:
        self.compiler = compiler
        self.flags = list(flags)
        self.header_language = header_language
        self.pch_suffix = pch_suffix
        self.directory = directory / _digest(identity)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.build_timeout_s = build_timeout_s
        self.min_programs = min_programs
        self.max_headers = max_headers
        self._failed: set[tuple[str, ...]] = set()
        self._lock = threading.Lock()
        self._build_locks: dict[tuple[str, ...], threading.Lock] = {}

    def _entry(self, headers: tuple[str, ...]) -> Path:
        return self.directory / _digest(headers)

    def _pch_path(self, headers: tuple[str, ...]) -> Path:
        return self._entry(headers) / f"prefix.h{self.pch_suffix}"

    def prefix_for(self, code: str) -> tuple[str, ...] | None:
        """The headers of the longest built PCH this program's prefix starts with, if any."""
        headers = leading_system_includes(code)
        for length in range(len(headers), 0, -1):
            if self._pch_path(headers[:length]).is_file():
                return headers[:length]
        return None

    def include_flags(self, code: str) -> list[str]:
        """`["-include", <prefix.h>]` for the longest PCH this program's prefix starts with."""
        headers = self.prefix_for(code)
        return [] if headers is None else ["-include", str(self._entry(headers) / "prefix.h")]

    def plan(self, programs: Iterable[str], max_workers: int) -> None:
        """Build the PCHs worth having for a batch (shared leading includes not yet on disk)."""
        prefixes = [leading_system_includes(program) for program in programs]
        shared = Counter(
            prefix[:length] for prefix in prefixes for length in range(1, len(prefix) + 1)
        )
        assigned = Counter(
            next(
                (
                    prefix[:length]
                    for length in range(len(prefix), 0, -1)
                    if shared[prefix[:length]] >= self.min_programs
                ),
                (),
            )
            for prefix in prefixes
        )
        assigned.pop((), None)
        wanted = [
            headers
            for headers, _ in assigned.most_common()
            if headers not in self._failed and not self._pch_path(headers).is_file()
        ][: max(0, self.max_headers - self._built_count())]
        if not wanted:
            return
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(wanted)))) as executor:
            list(executor.map(self.build, wanted))

    def _built_count(self) -> int:
        suffix = f"prefix.h{self.pch_suffix}"
        return sum(1 for entry in self.directory.iterdir() if (entry / suffix).is_file())

    def build(self, headers: tuple[str, ...]) -> bool:
        """Precompile `headers` (in the sandbox); True when the PCH is ready to use.

        A PCH only saves time, so a build that fails for any reason is logged and remembered,
        and the programs compile without it. Threads that ask for the same PCH at once wait
        for one build.
        """
        with self._lock:
            build_lock = self._build_locks.setdefault(headers, threading.Lock())
        with build_lock:
            if self._pch_path(headers).is_file():
                return True
            if headers in self._failed:
                return False
            try:
                built = self._build(headers)
            except (OSError, VerifierError) as error:
                logger.warning("cannot precompile %s: %s", ", ".join(headers), error)
                built = False
            if not built:
                self._failed.add(headers)
            return built

    def _build(self, headers: tuple[str, ...]) -> bool:
        pch = self._pch_path(headers)
        entry = self._entry(headers)
        entry.mkdir(parents=True, exist_ok=True)
        header = entry / "prefix.h"
        staged_header = entry / f".prefix.h.{os.getpid()}.{threading.get_ident()}"
        staged_header.write_text("".join(f"#include <{name}>\n" for name in headers))
        os.replace(staged_header, header)
        staged_pch = entry / f".pch.{os.getpid()}.{threading.get_ident()}.tmp"
        limits = SandboxLimits(
            wall_timeout_s=self.build_timeout_s,
            memory_limit_mb=2048,
            max_file_size_mb=1024,
        )
        sandbox = Sandbox(limits, writable_paths=(entry,))
        with sandbox.workspace() as workspace:
            result = workspace.run(
                [
                    self.compiler,
                    *self.flags,
                    "-x",
                    self.header_language,
                    str(header),
                    "-o",
                    str(staged_pch),
                ],
                env=COMPILER_ENVIRONMENT,
            )
        if result.ok and staged_pch.is_file():
            os.replace(staged_pch, pch)
            logger.debug("precompiled %s in %.1f s", ", ".join(headers), result.wall_time_s)
            return True
        staged_pch.unlink(missing_ok=True)
        logger.debug("cannot precompile %s: %s", ", ".join(headers), result.stderr[-500:])
        return False
