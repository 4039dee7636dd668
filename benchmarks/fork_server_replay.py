"""Where a Python sample's CPU goes on its fork server: the server's side and the child's.

Records the requests `MBPPVerifier` sends for the samples of `verify_python.py` (reference
solutions plus wrong-body variants), then replays them through one `fork_server.SampleRunner`
in a fresh `python -I -S` (as a server starts), outside the sandbox, and reports per sample:
the server's CPU and page faults (its fork among them), and those of the children it forked
and reaped (the program's processes). The server's tests process lives on and is not counted.
Outside the sandbox, where programs run as nobody, counting nobody's processes scans the whole
/proc; a server counts only its sandbox's few, so the replay counts those of the sandbox too.

    .venv/bin/python benchmarks/fork_server_replay.py --repeats 2
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from verify_python import DEFAULT_DATA, TIMEOUT_S, load

REPO = Path(__file__).resolve().parents[1]

REPLAY = """
import gc, json, os, resource, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from halo_forge.verifiers.python.fork_server import SampleRunner
from halo_forge.verifiers.sandbox import limits
from halo_forge.verifiers.sandbox.writable_places import fresh_directory

limits.tasks_of_user = lambda uid: 4  # a sandbox's /proc: the server's few processes
requests = json.load(open(sys.argv[2]))
repeats = int(sys.argv[4])
gc.disable()
runner = SampleRunner(fresh_directory(sys.argv[3], "fork-server-"), [sys.argv[3]], [])
forks = []
fork = os.fork
def timed_fork():
    started = time.thread_time()
    pid = fork()
    if pid:
        forks.append(time.thread_time() - started)
    return pid
os.fork = timed_fork
for request in requests[:50]:
    runner.run(dict(request))  # warm
forks.clear()
def usage():
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return [own.ru_utime + own.ru_stime, own.ru_minflt, children.ru_utime + children.ru_stime, children.ru_minflt]
before = usage()
for _ in range(repeats):
    for request in requests:
        runner.run(dict(request))  # a server's request is parsed afresh each time
after = usage()
count = repeats * len(requests)
used = [(end - begin) / count for begin, end in zip(before, after)]
print(json.dumps({"samples": count, "server_cpu_ms": used[0] * 1000, "server_faults": used[1],
                  "fork_cpu_ms": statistics.median(forks) * 1000,
                  "children_cpu_ms": used[2] * 1000, "children_faults": used[3]}))
"""


def record_requests(path: Path) -> int:
    """Write the requests MBPPVerifier sends for the benchmark's samples to `path`."""
    from halo_forge.verifiers.python import runner
    from halo_forge.verifiers.python.verifiers import MBPPVerifier

    tasks, solutions, wrong, _ = load(DEFAULT_DATA, None)
    requests: list[dict[str, object]] = []
    send = runner.ForkServerPool.run

    def recording(pool: runner.ForkServerPool, request: dict[str, object]) -> dict[str, object]:
        requests.append(request)
        return send(pool, request)

    runner.ForkServerPool.run = recording  # type: ignore[method-assign]
    try:
        with MBPPVerifier(
            str(DEFAULT_DATA), max_workers=1, use_cache=False, timeout=TIMEOUT_S
        ) as v:
            v.verify_batch(solutions + wrong, task_ids=[task.task_id for task in tasks] * 2)
    finally:
        runner.ForkServerPool.run = send  # type: ignore[method-assign]
    path.write_text(json.dumps(requests))
    return len(requests)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="replays of all the requests")
    parser.add_argument("--rounds", type=int, default=2, help="fresh servers, one after another")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="replay-", dir="/dev/shm") as scratch:
        requests = Path(scratch) / "requests.json"
        print(f"{record_requests(requests)} requests recorded; per sample:")
        print(
            "\n| server CPU ms | its fork ms | server faults | children CPU ms | children faults |"
        )
        print("|---|---|---|---|---|")
        for _ in range(args.rounds):
            work = Path(scratch) / "work"
            work.mkdir()
            replayed = subprocess.run(
                [
                    sys.executable,
                    "-I",
                    "-S",
                    "-c",
                    REPLAY,
                    str(REPO),
                    requests,
                    work,
                    str(args.repeats),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            shutil.rmtree(work)
            row = json.loads(replayed.stdout)
            print(
                f"| {row['server_cpu_ms']:.3f} | {row['fork_cpu_ms']:.3f} | {row['server_faults']:.0f} "
                f"| {row['children_cpu_ms']:.3f} | {row['children_faults']:.0f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
