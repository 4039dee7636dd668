"""The command line that isolates a sandboxed program's network and files.

Bubblewrap where it works: the minimal root of `view` (the system and the program's
installation read-only, the workdir, capped scratch tmpfs), its own network (none), PID and
IPC namespaces, no capabilities. Else `unshare --net` then `setpriv` (no network, no
capabilities; files unprotected: the whole file system is visible, and writable where the user
may write). Else the program as it is. Where the process limit is RLIMIT_NPROC as nobody,
`setpriv` switches to nobody first (`process` has already set the limits).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from halo_forge.verifiers.sandbox.isolation import BUBBLEWRAP, UNSHARE, IsolationReport
from halo_forge.verifiers.sandbox.limits import NOBODY_UID, PROCESS_LIMIT_NOBODY
from halo_forge.verifiers.sandbox.process import tool_path
from halo_forge.verifiers.sandbox.view import FilesystemRequest, scratch_check, view_arguments


def isolating_command(
    argv: Sequence[str],
    *,
    isolation: IsolationReport,
    files: FilesystemRequest,
    allow_network: bool,
    long_lived: bool,
    status_fd: int | None = None,
) -> list[str]:
    """`argv` behind the wrapper that `isolation` says works here (bubblewrap or unshare).

    `files` says what bubblewrap shows besides the system (`view`). With `status_fd`, a run
    whose writes are not kept reports there a scratch it filled (`view.scratch_check`).
    """
    argv = list(argv)
    root = os.geteuid() == 0
    runs_as_nobody = isolation.process_limit == PROCESS_LIMIT_NOBODY
    # setpriv switches to nobody after this process has set the limits: without
    # CAP_SYS_RESOURCE (some containers) root may not prlimit another user's process.
    become_nobody = [tool_path("setpriv"), f"--reuid={NOBODY_UID}", f"--regid={NOBODY_UID}"]
    become_nobody += ["--clear-groups", "--no-new-privs"]
    if isolation.network == BUBBLEWRAP:
        command = [tool_path("bwrap"), *view_arguments(argv[0], files, allow_network)]
        command += ["--unshare-pid", "--unshare-ipc"]
        if root and not runs_as_nobody:
            command += ["--cap-drop", "ALL"]
        if not allow_network:
            command.append("--unshare-net")
        if not long_lived:
            # The parent-death signal follows the thread that started the process: a run
            # blocks that thread, a server outlives it.
            command.append("--die-with-parent")
        if status_fd is not None:
            argv = scratch_check(argv, status_fd)
        command += ["--", *argv]
        return [*become_nobody, "--", *command] if runs_as_nobody else command
    if isolation.network == UNSHARE:
        # setpriv after unshare (which needs root): nobody, or root without capabilities;
        # either way no privilege gain through setuid files.
        command = [tool_path("setpriv"), "--no-new-privs"]
        if runs_as_nobody:
            command = [*become_nobody, "--no-new-privs"]
        elif root:
            command += ["--bounding-set=-all", "--inh-caps=-all"]
        if not allow_network:
            command = [tool_path("unshare"), "--net", "--", *command]
        return [*command, "--", *argv]
    return [*become_nobody, "--", *argv] if runs_as_nobody else argv
