"""What a program sees of the file system under bubblewrap: a minimal root, a capped scratch.

A compiler that `#include`s a file echoes it into its diagnostics, and a program can print any
file it can open, so a run must see nothing it does not need: not the user's home (SSH keys,
tokens), not the project (task files with reference solutions and held-out tests), not the
caller's working directory. bubblewrap builds each run a fresh root, a tmpfs made read-only
at the end, holding only:

- the system: /usr (toolchains, headers, libraries), /bin, /sbin and /lib* (symbolic links
  into /usr where the system has merged them), and the pieces of /etc that compilers, the
  dynamic linker and interpreters read (`ETC_ENTRIES`; never /etc/shadow or host keys);
- the installation of the program the run starts, when it lives elsewhere: a compiler under
  /opt, a Rust toolchain or a Python interpreter under the home, a virtual environment inside
  the project. The installation is the parent of the program's `bin` directory, or its own
  directory, for the path as given and as resolved; one that would hold the home or the
  caller's working directory is never bound whole, only the program file (`installation_of`);
- the paths the caller names (`readable`: the harness of the Python verifiers, a verifier's
  `expose_paths`), read-only, and the `writable` ones (a PCH cache), writable;
- the run's working directory, and a fresh /dev, /proc and /tmp.

Every place a run can write besides its host working directory is a tmpfs of at most
`scratch_bytes`: /tmp and /dev/shm. With `keep_writes=False` (runs of built programs, the
Python fork servers) the working directory is one too, inside /tmp when it lies there: the
workspace's files appear in it read-only (a symbolic link as a link, resolved inside, never on
the host), and what the program writes ends with the run, so nothing it does reaches the
host's disk. `scratch_check` then reports a run that filled its scratch.
"""

from __future__ import annotations

import contextlib
import os
import pwd
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Top-level system directories: bound read-only, or recreated as the links they are.
SYSTEM_ENTRIES = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: What compilers, the dynamic linker, glibc and interpreters read from /etc. Nothing secret:
#: /etc/passwd holds no password hashes (those are in /etc/shadow, never bound).
ETC_ENTRIES = (
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/hosts",
    "/etc/services",
    "/etc/protocols",
    "/etc/os-release",
    "/etc/ssl/openssl.cnf",
    "/etc/dotnet",
    "/etc/mono",
)
#: What name resolution and TLS read, for runs allowed on the network.
NETWORK_ETC_ENTRIES = (
    "/etc/resolv.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/ssl/certs",
    "/etc/ca-certificates",
    "/run/systemd/resolve",
)
#: The tmpfs every run may write, each capped at the scratch size.
SCRATCH_MOUNTS = ("/tmp", "/dev/shm")
#: Runs the program, then tries to write one byte in each capped scratch (the shell starts in
#: the working directory): the first with no room left is named on the status descriptor ($1).
#: The exit status is the program's. (dash redirects only descriptors 0-9, so the status
#: descriptor is reopened by its /proc name.)
_CHECK_SCRIPT = (
    'status_fd=$1; shift; "$@"; status=$?; for place in /tmp /dev/shm "$PWD"; do '
    '(printf x > "$place/.halo-forge-room") 2>/dev/null || { '
    'echo "$place" > "/proc/self/fd/$status_fd"; break; }; done; exit $status'
)


@dataclass(frozen=True)
class FilesystemRequest:
    """What one run needs to see besides the system: its directory and the caller's paths."""

    workdir: Path
    readable: Sequence[Path] = ()  # bound read-only
    writable: Sequence[Path] = ()  # bound writable (a verifier's cache, delegated cgroups)
    keep_writes: bool = True  # False: the workdir is a capped scratch that ends with the run
    scratch_bytes: int = 256 * 1024 * 1024  # the size of each capped tmpfs


def view_arguments(program: str, files: FilesystemRequest, allow_network: bool) -> list[str]:
    """bubblewrap's mount arguments for a run of `program` (an absolute path)."""
    workdir = files.workdir
    arguments: list[str] = []
    for entry in SYSTEM_ENTRIES:
        if os.path.islink(entry):
            arguments += ["--symlink", os.readlink(entry), entry]
        elif os.path.isdir(entry):
            arguments += ["--ro-bind", entry, entry]
    for entry in (*ETC_ENTRIES, *(NETWORK_ETC_ENTRIES if allow_network else ())):
        arguments += ["--ro-bind-try", entry, entry]
    size = str(files.scratch_bytes)
    arguments += ["--dev", "/dev", "--size", size, "--tmpfs", "/dev/shm", "--proc", "/proc"]
    arguments += ["--size", size, "--tmpfs", "/tmp"]
    installation = [] if Path(program).is_relative_to(workdir) else installation_of(program)
    for path in _outside_the_system([*installation, *files.readable]):
        arguments += ["--ro-bind", str(path), str(path)]
    if files.keep_writes:
        arguments += ["--bind", str(workdir), str(workdir)]
    else:
        arguments += _scratch_workdir(workdir, size)
    for path in files.writable:
        arguments += ["--bind", str(path), str(path)]
    return [*arguments, "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", str(workdir)]


def scratch_check(argv: Sequence[str], status_fd: int) -> list[str]:
    """`argv` run by a shell that, once it has ended, writes to `status_fd` the first capped
    scratch left without room (a full tmpfs takes no byte more). A program that writes to that
    descriptor itself only reports its own run as failed."""
    return ["/bin/sh", "-c", _CHECK_SCRIPT, "sh", str(status_fd), *argv]


def installation_of(program: str) -> list[Path]:
    """The directories a program needs from its installation, for the path as given and as
    resolved: the parent of its `bin`/`sbin` directory, else its own directory. A directory
    that would hold the home or the caller's working directory is replaced by the program
    file alone: a tool in `~/bin` must not expose the whole home."""
    found = []
    for path in dict.fromkeys((Path(program).absolute(), Path(program).resolve())):
        directory = path.parent
        root = directory.parent if directory.name in ("bin", "sbin") else directory
        found.append(path if _holds_private_places(root) else root)
    return found


def in_the_system(program: str) -> bool:
    """Whether every sandbox shows `program` and its installation without naming it: it lies
    in the system directories (`SYSTEM_ENTRIES`), as given and as resolved."""
    system = [Path(entry) for entry in SYSTEM_ENTRIES if os.path.isdir(entry)]
    paths = {Path(program).absolute(), Path(program).resolve()}
    return all(any(path.is_relative_to(entry) for entry in system) for path in paths)


def _holds_private_places(directory: Path) -> bool:
    """Whether `directory` holds the home ($HOME or the account's) or the working directory."""
    private = [Path.home(), Path.cwd()]
    with contextlib.suppress(KeyError):
        private.append(Path(pwd.getpwuid(os.geteuid()).pw_dir))
    return any(place.is_relative_to(directory) for place in private if place.is_absolute())


def _outside_the_system(paths: Iterable[Path]) -> list[Path]:
    """`paths` without those the system entries already show, nor those under another one."""
    system = [Path(entry) for entry in SYSTEM_ENTRIES if not os.path.islink(entry)]
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda path: len(path.parts)):
        if any(path.is_relative_to(shown) for shown in (*system, *kept)):
            continue
        kept.append(path)
    return kept


def _scratch_workdir(workdir: Path, size: str) -> list[str]:
    """The working directory as a scratch: in /tmp's tmpfs, or a capped tmpfs of its own, with
    the workspace's files bound read-only (links recreated, so they resolve inside)."""
    if workdir.is_relative_to("/tmp"):
        arguments = ["--dir", str(workdir)]
    else:
        arguments = ["--size", size, "--tmpfs", str(workdir)]
    with os.scandir(workdir) as entries:
        for entry in entries:
            target = str(workdir / entry.name)
            if entry.is_symlink():
                arguments += ["--symlink", os.readlink(entry.path), target]
            else:
                arguments += ["--ro-bind", entry.path, target]
    return arguments
