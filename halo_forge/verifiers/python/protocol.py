"""The trusted channel between a confined child and its fork server: records and their token.

The harness (`harness.py`, whose docstring holds the threat model) and its pytest mode
(`harness_pytest.py`) write records; the fork server (`fork_server.py`) reads them. Each
record is `KIND INDEX LENGTH\\n`, a message, then a token the program never sees. Standard
library only: this runs in the small fork server and its children.
"""

from __future__ import annotations

from typing import Any

TOKEN_BYTES = 16
MESSAGE_BYTES = 1000
#: Record kinds: a step passed, failed, how many instances a pytest test has, the program
#: failed before any test could run, the harness finished.
PASSED, FAILED, COUNT, PROGRAM_ERROR, DONE = b"P", b"F", b"N", b"E", b"D"

SOLUTION_FILE = "solution.py"
TEST_FILE = "<tests>"


def send_record(
    report_fd: int, token_fd: int, kind: bytes, index: int, message: str, write: Any, copy: Any
) -> None:
    """Write one record: `KIND INDEX LENGTH\\n`, the message, then the token (kernel to kernel).

    `write` and `copy` are `os.write` and `os.sendfile` as captured before the program ran, so
    a program that patches the `os` module does not reach them.
    """
    payload = str.encode(message, "utf-8", "replace")[:MESSAGE_BYTES]
    write(report_fd, b"%s %d %d\n" % (kind, index, payload.__len__()) + payload)
    copy(report_fd, token_fd, 0, TOKEN_BYTES)


def describe_exception(error: BaseException) -> str:
    """`Type: message` of an exception raised by untrusted code (which may break `str`)."""
    try:
        name = type(error).__name__
        text = str(error)
        return f"{name}: {text}" if text else name
    except BaseException:
        return "an exception whose message could not be formatted"
