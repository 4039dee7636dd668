"""Runs of built programs on warm run servers: each run is held as a run of its own sandbox.

Real gcc, real servers under both sandbox variants (with the pids and memory cgroups, and the
fallback where none is writable): output and exit status, the per-run limits, an empty
directory per run, nothing a run starts or writes outliving it, and a server that a program
kills replaced without the run counting as a pass.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from verifiers.sandbox.helpers import SANDBOX_VARIANTS, python_for

from halo_forge.verifiers.build.testcases import TestCase, run_test_cases
from halo_forge.verifiers.sandbox import SandboxLimits, SandboxResult, probe_isolation
from halo_forge.verifiers.sandbox.run_pool import RunServerPool, RunSession
from halo_forge.verifiers.sandbox.standby import STANDBYS

LIMITS = SandboxLimits(wall_timeout_s=2.0, memory_limit_mb=128, max_processes=8, disk_limit_mb=8)

PROGRAM = r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
/* Every other process of the sandbox but the parent (the server): stopped, killed, or niced,
   given tiny rlimits and one CPU; prints how many it reached. */
static int reach_others(const char *how) {
    int reached = 0; DIR *proc = opendir("/proc"); struct dirent *entry;
    while (proc && (entry = readdir(proc))) {
        pid_t pid = atoi(entry->d_name);
        if (pid <= 1 || pid == getpid() || pid == getppid()) continue;
        if (!strcmp(how, "stop")) { reached += kill(pid, SIGSTOP) == 0; continue; }
        if (!strcmp(how, "kill")) { reached += kill(pid, SIGKILL) == 0; continue; }
        struct rlimit small = {16, 16}, stack = {1 << 16, 1 << 16};
        cpu_set_t one; CPU_ZERO(&one); CPU_SET(0, &one);
        reached += prlimit(pid, RLIMIT_NOFILE, &small, NULL) == 0;
        prlimit(pid, RLIMIT_STACK, &stack, NULL);
        setpriority(PRIO_PROCESS, pid, 19);
        sched_setaffinity(pid, sizeof one, &one);
    }
    if (proc) closedir(proc);
    printf("%d\n", reached);
    return 0;
}
int main(int argc, char **argv) {
    char command[32] = "";
    if (scanf("%31s", command) != 1) return 3;
    if (!strcmp(command, "echo")) { int n; scanf("%d", &n); printf("%d\n", n + 1);
        fprintf(stderr, "to stderr\n"); return 0; }
    if (!strcmp(command, "exit")) return 7;
    if (!strcmp(command, "segv")) { *(volatile int *)0 = 1; }
    if (!strcmp(command, "spin")) for (;;) {}
    if (!strcmp(command, "sleep")) for (;;) pause();
    if (!strcmp(command, "flood")) for (;;) puts("flood flood flood");
    if (!strcmp(command, "allocate")) { for (int i = 0; i < 64; i++) {
        char *block = malloc(16 << 20); if (!block) return 4; memset(block, 1, 16 << 20); }
        puts("allocated"); return 0; }
    if (!strcmp(command, "fork")) { int made = 0; for (int i = 0; i < 64; i++) {
        pid_t child = fork(); if (child == 0) { pause(); _exit(0); } made += child > 0; }
        printf("%d\n", made); return 0; }
    if (!strcmp(command, "fill")) { FILE *f = fopen("fill", "w"); char block[4096];
        memset(block, 'x', sizeof block); signal(SIGXFSZ, SIG_IGN);
        while (fwrite(block, 1, sizeof block, f) == sizeof block) {} return 0; }
    if (!strcmp(command, "leave")) { FILE *f = fopen("left", "w"); fputs("x", f); fclose(f);
        f = fopen("/tmp/left", "w"); if (f) { fputs("x", f); fclose(f); }
        if (fork() == 0) { setsid(); sleep(30); _exit(0); } return 0; }
    if (!strcmp(command, "look")) { printf("%s %s %d %d\n", getenv("HOME"), getenv("TMPDIR"),
        access("left", F_OK) == 0 || access("/tmp/left", F_OK) == 0, access("prog", X_OK) == 0);
        return 0; }
    if (!strcmp(command, "kill-parent")) { kill(getppid(), SIGKILL); sleep(1); puts("5"); return 0; }
    if (!strcmp(command, "reach")) { char how[8]; scanf("%7s", how); return reach_others(how); }
    if (!strcmp(command, "pause")) { usleep(100000); return 0; }
    if (!strcmp(command, "state")) { struct rlimit files, stack; cpu_set_t cpus;
        getrlimit(RLIMIT_NOFILE, &files); getrlimit(RLIMIT_STACK, &stack);
        sched_getaffinity(0, sizeof cpus, &cpus);
        printf("%lld %lld %lld %d %d\n", (long long)files.rlim_cur, (long long)files.rlim_max,
               (long long)stack.rlim_cur, getpriority(PRIO_PROCESS, 0), CPU_COUNT(&cpus));
        return 0; }
    if (!strcmp(command, "uid")) { printf("%d\n", (int)getuid()); return 0; }
    if (!strcmp(command, "fds")) { for (int fd = 3; fd < 1024; fd++) if (fcntl(fd, F_GETFD) != -1) {
        char path[64], target[256] = ""; snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        readlink(path, target, sizeof target - 1); printf("%d %s\n", fd, target); }
        return 0; }
    if (!strcmp(command, "args")) { for (int i = 0; i < argc; i++) printf("%s\n", argv[i]); return 0; }
    return 2;
}
"""


#: The workspace the program was built in, as a verifier's (the per-run sandbox runs it there).
BUILT: list[Path] = []


@pytest.fixture(scope="module", params=SANDBOX_VARIANTS)
def pool(request: pytest.FixtureRequest) -> Iterator[RunServerPool]:
    isolation = None if request.param == "strongest" else probe_isolation(use_cgroups=False)
    servers = RunServerPool(1, LIMITS, isolation=isolation)
    with servers.per_run.workspace() as workspace:
        workspace.write("prog.c", PROGRAM)
        subprocess.run(["gcc", "-O0", "prog.c", "-o", "prog"], cwd=workspace.path, check=True)
        BUILT[:] = [workspace.path]
        yield servers
    servers.close()


@pytest.fixture
def program(pool: RunServerPool) -> bytes:
    return (BUILT[0] / "prog").read_bytes()


def run(
    pool: RunServerPool, program: bytes, stdin: str, argv: tuple[str, ...] = ("./prog",)
) -> SandboxResult:
    """One run of `program` (built in a workdir of its own for the per-run sandbox)."""
    with pool.session({"prog": program}) as session:
        return session.run(list(argv), workdir=BUILT[0], stdin=stdin)


def test_output_exit_status_and_stdin(pool: RunServerPool, program: bytes) -> None:
    result = run(pool, program, "echo 41\n")
    assert (result.returncode, result.stdout, result.stderr) == (0, "42\n", "to stderr\n")
    assert result.ok
    assert run(pool, program, "exit\n").returncode == 7
    assert run(pool, program, "").returncode == 3  # no stdin: end of file
    assert run(pool, program, "args\n", ("./prog", "a b", "c")).stdout.endswith("prog\na b\nc\n")
    quoted = ("./prog", "it's", "two\nlines", "$HOME", "*", "")
    assert run(pool, program, "args\n", quoted).stdout.endswith("it's\ntwo\nlines\n$HOME\n*\n\n")
    descriptors = run(pool, program, "fds\n").stdout
    if not pool._servers_fail:  # (a sandbox of its own adds its scratch check's descriptor)
        assert descriptors == ""  # none but its standard streams


def test_a_crash_is_reported_as_its_signal(pool: RunServerPool, program: bytes) -> None:
    result = run(pool, program, "segv\n")
    assert result.signal == signal.SIGSEGV and result.returncode == -signal.SIGSEGV
    assert not result.ok


@pytest.mark.parametrize("command", ["spin", "sleep"])
def test_the_deadline_stops_a_run_that_does_not_end(
    pool: RunServerPool, program: bytes, command: str
) -> None:
    result = run(pool, program, f"{command}\n")
    assert result.timed_out and result.returncode is None
    assert result.wall_time_s < LIMITS.wall_timeout_s + 1.5


def test_an_output_flood_is_cut_at_the_cap_and_stopped(pool: RunServerPool, program: bytes) -> None:
    result = run(pool, program, "flood\n")
    assert result.output_truncated and not result.ok
    assert len(result.stdout) == LIMITS.max_output_bytes
    assert result.wall_time_s < 1.0


def test_memory_and_process_limits_hold_each_run(pool: RunServerPool, program: bytes) -> None:
    assert run(pool, program, "allocate\n").stdout != "allocated\n"  # 1 GiB against 128 MiB
    run(pool, program, "pause\n")  # a long run: the server makes standbys beside it
    forked = run(pool, program, "fork\n")
    assert forked.ok and int(forked.stdout) < LIMITS.max_processes
    if pool.per_run.isolation.process_limit.startswith("pids-cgroup"):
        # It and all it made: exactly the limit; the waiting standbys count outside it.
        assert int(forked.stdout) == LIMITS.max_processes - 1
    assert run(pool, program, "echo 1\n").stdout == "2\n"  # everything it forked is gone


def test_a_run_that_fills_its_scratch_says_so(pool: RunServerPool, program: bytes) -> None:
    result = run(pool, program, "fill\n")
    if pool.per_run.private_tmp is not None:  # bubblewrap: a tmpfs of the disk limit
        assert result.disk_limit_reached_mb == LIMITS.disk_limit_mb and not result.ok
    else:  # the file size limit is all that binds, and the program handles its EFBIG
        assert result.ok and result.disk_limit_reached_mb is None


def test_each_run_starts_in_an_empty_directory_of_its_own(
    pool: RunServerPool, program: bytes
) -> None:
    with pool.session({"prog": program}) as session:
        left = session.run(["./prog"], workdir=BUILT[0], stdin="leave\n")
        looked = session.run(["./prog"], workdir=BUILT[0], stdin="look\n")
    assert left.ok
    home, tmpdir, found, runnable = looked.stdout.split()
    assert home == tmpdir  # its working directory, as in a sandbox of its own
    assert (found, runnable) == ("0", "1")  # no file of the last run, its own program there


def test_a_program_that_kills_its_server_fails_and_the_next_run_gets_a_new_one(
    pool: RunServerPool, program: bytes
) -> None:
    with pool.session({"prog": program}) as session:
        killed = session.run(["./prog"], workdir=BUILT[0], stdin="kill-parent\n")
        again = session.run(["./prog"], workdir=BUILT[0], stdin="echo 1\n")  # resends prog
    assert not killed.ok and killed.stdout == ""
    assert again.stdout == "2\n"
    if not pool._servers_fail:
        assert killed.returncode is None and "run server died" in killed.stderr


@pytest.mark.parametrize("how", ["stop", "kill", "limit"])
def test_a_program_leaves_the_next_runs_nothing_of_what_it_did_to_other_processes(
    pool: RunServerPool, program: bytes, how: str
) -> None:
    """A server keeps children waiting for the next runs (`standby`), which a program of the
    same user can reach: whatever it stops, kills, nices or limits, the next runs (more than a
    server keeps waiting) start as the first did."""
    with pool.session({"prog": program}) as session:
        first = session.run(["./prog"], workdir=BUILT[0], stdin="state\n")
        session.run(["./prog"], workdir=BUILT[0], stdin="pause\n")  # long: standbys are made
        reached = session.run(["./prog"], workdir=BUILT[0], stdin=f"reach {how}\n")
        after = [
            session.run(["./prog"], workdir=BUILT[0], stdin="state\n") for _ in range(STANDBYS + 2)
        ]
    assert first.ok and reached.ok
    if isinstance(session, RunSession) and pool.per_run.isolation.run_as == "caller's user":
        assert int(reached.stdout) >= STANDBYS  # it did reach the standbys
    for result in after:
        assert (result.ok, result.stdout) == (True, first.stdout), result


def test_servers_run_where_the_sandbox_can_run_this_interpreter(pool: RunServerPool) -> None:
    """Under cgroups the servers run; as nobody, this interpreter under /root cannot, and each
    run gets a sandbox of its own instead (the tests above hold for both)."""
    with pool.session({}) as runner:
        uses_servers = isinstance(runner, RunSession)
    reachable = python_for(pool.per_run) == sys.executable
    assert uses_servers == reachable


def test_a_session_is_a_program_runner(pool: RunServerPool, program: bytes) -> None:
    with pool.session({"prog": program}) as session:
        cases = [TestCase("echo 1\n", "2\n"), TestCase("echo 2\n", "4\n"), TestCase("exit\n")]
        outcome = run_test_cases(session, BUILT[0], ["./prog"], cases)
    assert (outcome.total, outcome.passed, outcome.completed) == (2, 1, 2)


def test_a_compile_verifier_builds_and_runs_a_sample_on_one_server_and_stops_it_after() -> None:
    """A sample with test cases compiles on its run server (no workspace on the host) and its
    runs use the binary there; leaving the verifier stops the servers."""
    from halo_forge.verifiers import GCCVerifier

    source = (
        '#include <stdio.h>\nint main(void) { int a; scanf("%d", &a); printf("%d\\n", 2 * a); }\n'
    )
    with GCCVerifier(language="c", use_cache=False, max_workers=1) as verifier:
        toolset = verifier.toolsets.get("c")

        def no_host_workspace() -> None:
            raise AssertionError("compiled on the host")

        toolset.sandbox.workspace = no_host_workspace  # type: ignore[method-assign]
        cases = [
            {"stdin": "2\n", "expected_output": "4\n"},
            {"stdin": "5\n", "expected_output": "10\n"},
        ]
        result = verifier.verify(source, test_cases=cases)
        broken = verifier.verify("int main(void) { return }\n", test_cases=cases)
        [server] = verifier._runs.servers._servers
    assert result.success and result.metadata["test_cases_passed"] == 2, result
    assert broken.stage == "compile" and broken.reward == 0.0, broken
    assert server.process.poll() is not None
