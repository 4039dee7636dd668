"""The channel a sample's records come back on: memory files, the token-checked record reader,
and waiting for a child's exit or its deadline while draining the report pipe.

Standard library only (no threading, logging, subprocess or random), like the fork server that
imports it: their fork hooks would run in every child.
"""

from __future__ import annotations

import hmac
import os
import select
import time
from typing import Any

from halo_forge.verifiers.python.protocol import COUNT, DONE, FAILED, PASSED, PROGRAM_ERROR

_MAX_REPORT_BYTES = 4 * 1024 * 1024  # more than this is a flood, not a report
_MAX_HEADER_BYTES = 64
RECORD_KINDS = frozenset({PASSED, FAILED, COUNT, PROGRAM_ERROR, DONE})
_DRAIN_EVERY_S = 0.02  # a 64 KiB pipe holds 64 records of the longest kind


def memory_file(name: str, content: bytes = b"") -> int:
    descriptor = os.memfd_create(name, 0)
    if content:
        os.write(descriptor, content)
        os.lseek(descriptor, 0, os.SEEK_SET)
    return descriptor


def read_memory_file(descriptor: int, limit: int) -> tuple[str, bool]:
    size = os.fstat(descriptor).st_size
    data = os.pread(descriptor, min(size, limit), 0)
    return data.decode("utf-8", "replace"), size > limit


class RecordReader:
    """Parses `KIND INDEX LENGTH\\n<message><token>` records and checks every token."""

    def __init__(self, token: bytes, token_bytes: int, kinds: frozenset[bytes]) -> None:
        self.token = token
        self.token_bytes = token_bytes
        self.kinds = kinds
        self.buffer = bytearray()
        self.records: list[list[Any]] = []
        self.received = 0
        self.done = False
        self.tampered: str | None = None

    def feed(self, data: bytes, done_kind: bytes) -> None:
        self.received += len(data)
        if self.received > _MAX_REPORT_BYTES:
            self.tampered = "the report channel was flooded"
            return
        self.buffer += data
        while not self.done and self.tampered is None:
            newline = self.buffer.find(b"\n", 0, _MAX_HEADER_BYTES)
            if newline < 0:
                if len(self.buffer) >= _MAX_HEADER_BYTES:
                    self.tampered = "a malformed record was written to the report channel"
                return
            parts = bytes(self.buffer[:newline]).split(b" ")
            if (
                len(parts) != 3
                or parts[0] not in self.kinds
                or not parts[1].isdigit()
                or not parts[2].isdigit()
            ):
                self.tampered = "a malformed record was written to the report channel"
                return
            length = int(parts[2])
            end = newline + 1 + length + self.token_bytes
            if len(self.buffer) < end:
                return
            message = bytes(self.buffer[newline + 1 : newline + 1 + length])
            token = bytes(self.buffer[end - self.token_bytes : end])
            del self.buffer[:end]
            if not hmac.compare_digest(token, self.token):
                self.tampered = "a record without the run's token was written to the report channel"
                return
            kind = parts[0]
            self.records.append([kind.decode(), int(parts[1]), message.decode("utf-8", "replace")])
            self.done = kind == done_kind


def wait_for_records(
    reader: RecordReader, report_fd: int, ended: list[int], deadline: float
) -> bool:
    """Wait until the reporting ends (one of `ended` is readable: the child's pidfd, or the
    tests process's word that it finished) or the deadline; True if the deadline came first.

    The report is read after the child is gone (`drain`), and every `_DRAIN_EVERY_S` before
    that so that a long report never fills the pipe: while the child lives, each page this
    process writes is copied first (copy-on-write), so it sleeps rather than parse record by
    record.
    """
    while reader.tampered is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True
        if select.select(ended, [], [], min(remaining, _DRAIN_EVERY_S))[0]:
            return False
        drain(reader, report_fd)
    return False


def drain(reader: RecordReader, report_fd: int) -> None:
    """Feed the reader everything the report pipe holds now."""
    while not reader.done and reader.tampered is None:
        try:
            data = os.read(report_fd, 65536)
        except BlockingIOError:
            return
        if not data:
            return
        reader.feed(data, DONE)


def describe_exit(status: int | None) -> str:
    if status is None:
        return "killed"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"
