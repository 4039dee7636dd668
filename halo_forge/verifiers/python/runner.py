"""A pool of warm fork servers, seen from the verifier's process.

`ForkServerPool.run(request)` borrows an idle server (starting one if fewer than `size` run),
sends the request and waits for the response; each thread of `verify_batch` holds one server
while its sample runs. A server that dies or stops answering (a sample that
killed its parent, a harness bug) is killed with everything it started and replaced on the
next request; its sample gets `{"server_failure": why}`, which the verifier scores 0. A server
killed by its own sample is noticed when its pipe closes, which under bubblewrap is when the
sample's processes have ended too, and at the latest at the sample's timeout plus a grace.

Servers are started lazily through `Sandbox.spawn` from `sys.executable` with `-I` (no
environment variables, no user site), plus `-S` unless the servers need third-party packages
(pytest): the smallest process that runs the harness forks fastest, and it never imports torch.
Under bubblewrap a server keeps its samples' directories on its own /tmp, a tmpfs capped at
the disk limit, and its own directory is a scratch inside it: nothing a sample writes reaches
the host, and on a disk, removing a directory can wait for the device (3 ms per sample on the
VM of benchmarks/). Servers see the system, their interpreter and this package, nothing else
of the project.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from halo_forge.verifiers.sandbox import Sandbox, SandboxLimits
from halo_forge.verifiers.sandbox.server_pool import ServerPool, SpawnedServer, server_limits
from halo_forge.verifiers.sandbox.view import SCRATCH_MOUNTS

_BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from halo_forge.verifiers.python.fork_server import serve; "
    "roots = [[root for root in part.split(':') if root] for part in sys.argv[4:6]]; "
    "serve(sys.argv[2], sys.argv[3], *roots, sys.argv[6:])"
)
#: The files whose code decides a verdict; their hash is part of every cache fingerprint, so
#: a changed harness never serves a result it would no longer give.
VERDICT_FILES = (
    "base.py",
    "benchmark_tasks.py",
    "fork_server.py",
    "guards.py",
    "harness.py",
    "harness_pytest.py",
    "plain.py",
    "program_process.py",
    "protocol.py",
    "report_channel.py",
    "scoring.py",
    "tests_process.py",
    "units.py",
    "verifiers.py",
)
#: Time a server gets beyond a sample's own wall timeout to kill the sample and answer.
_ANSWER_GRACE_S = 5.0
#: The harness the servers import, the only part of the project their sandbox shows.
_PACKAGE = Path(__file__).resolve().parents[2]
_PROJECT_ROOT = str(_PACKAGE.parent)


class ForkServer(SpawnedServer):
    """One running server and what it imported.

    Each server gets its own directory under the pool's (its stderr stays beside it, out of
    the samples' reach), so that samples on two servers never share a writable place; the
    server empties all of its writable places after each sample (`fork_server`).
    """

    role = "Python fork server"

    def __init__(
        self, sandbox: Sandbox, workdir: Path, site_packages: bool, preload: tuple[str, ...]
    ) -> None:
        self.site_packages = site_packages
        self.preload = preload
        super().__init__(sandbox, workdir)
        self.modules: list[str] = self.ready["modules"]

    def command(self) -> list[str]:
        flags = ["-I"] if self.site_packages else ["-I", "-S"]
        scratch_parent = str(self.sandbox.private_tmp or self.directory)
        writable = [str(self.directory)]
        capped: list[str] = []
        if self.sandbox.private_tmp is not None:  # every place a sample writes is capped tmpfs
            writable += SCRATCH_MOUNTS
            capped = writable
        argv = [sys.executable, *flags, "-c", _BOOTSTRAP, _PROJECT_ROOT, self.channel_path]
        argv.append(scratch_parent)
        return [*argv, ":".join(writable + capped), ":".join(capped), *self.preload]

    def request(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """Send one request; the response, or None if the server died or did not answer."""
        if not self.send((json.dumps(message) + "\n").encode()):
            return None
        return self.read_message(time.monotonic() + timeout_s)


class ForkServerPool:
    """Up to `size` warm servers shared by the threads of a verifier; thread-safe."""

    def __init__(
        self,
        size: int,
        sample_limits: SandboxLimits,
        *,
        site_packages: bool = False,
        preload: tuple[str, ...] = (),
        expose_paths: tuple[Path, ...] = (),
    ) -> None:
        """`expose_paths`: what samples may read besides the system, the interpreter and the
        harness (a verifier's `expose_paths`)."""
        # Samples write only their scratch (a capped tmpfs under bubblewrap), never the host.
        sandbox = Sandbox(
            server_limits(sample_limits, memory_mb=512, processes=8),
            readable_paths=(_PACKAGE, *expose_paths),
            keep_writes=False,
        )
        self.servers = ServerPool(
            size, sandbox, lambda workdir: ForkServer(sandbox, workdir, site_packages, preload)
        )

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one sample on a warm server and return the server's response."""
        timeout_s = request["limits"]["wall_timeout_s"] + _ANSWER_GRACE_S
        with self.servers.borrowed() as server:
            response = server.request(request, timeout_s)
            if response is None:
                reason = server.stderr_tail() or "it stopped answering (killed by the program?)"
                self.servers.discard(server)
                return {"server_failure": f"the test process's server died: {reason}"}
            return response

    def server_modules(self) -> list[str]:
        """Modules a server has imported (to check that it stays small: no torch)."""
        with self.servers.borrowed() as server:
            return list(server.modules)

    def close(self) -> None:
        """Kill every server; the pool starts new ones if used again."""
        self.servers.close()

    def __enter__(self) -> ForkServerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@functools.lru_cache(maxsize=1)
def python_environment() -> dict[str, str]:
    """What the verdicts depend on besides the code: interpreter, harness and pytest versions."""
    digest = hashlib.sha256()
    for name in VERDICT_FILES:
        digest.update((Path(__file__).parent / name).read_bytes())
    environment = {"python": sys.version, "harness": digest.hexdigest()}
    with contextlib.suppress(PackageNotFoundError):
        environment["pytest"] = version("pytest")
    return environment
