"""The pool of warm fork servers: small servers, replaced when they die, shared by threads."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict

from halo_forge.verifiers.python.runner import ForkServerPool, python_environment
from halo_forge.verifiers.sandbox import SandboxLimits

LIMITS = SandboxLimits(wall_timeout_s=5.0, memory_limit_mb=512)


def request(code: str, steps: list[str] | None = None) -> dict:
    return {"mode": "asserts", "code": code, "steps": steps or [], "limits": asdict(LIMITS)}


def passed(response: dict) -> list[int]:
    return [index for kind, index, _ in response["records"] if kind == "P"]


def test_servers_never_import_torch_or_the_verifier_stack() -> None:
    with ForkServerPool(1, LIMITS) as pool:
        modules = set(pool.server_modules())
    assert "halo_forge.verifiers.python.harness" in modules
    assert not {"torch", "pydantic", "halo_forge.verifiers.python.verifiers"} & modules
    assert "site" not in modules  # started with -S: no third-party packages on the path
    # Modules whose fork hooks would run in every child, making each fork slower.
    assert not {"threading", "logging", "subprocess", "random"} & modules


def test_servers_with_site_packages_can_import_installed_packages() -> None:
    program = "import pytest\n"
    with ForkServerPool(1, LIMITS) as bare, ForkServerPool(1, LIMITS, site_packages=True) as full:
        assert bare.run(request(program, ["pass"]))["records"][0][0] == "E"
        assert passed(full.run(request(program, ["pass"]))) == [0]


def test_a_dead_server_fails_its_sample_and_is_replaced() -> None:
    with ForkServerPool(1, LIMITS) as pool:
        killer = "import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(1)\n"
        response = pool.run(request(killer, ["pass"]))
        assert "server_failure" in response
        assert passed(pool.run(request("x = 1\n", ["assert x == 1"]))) == [0]


def run_together(pool: ForkServerPool, message: dict, count: int) -> list[dict]:
    results: list[dict] = []
    threads = [
        threading.Thread(target=lambda: results.append(pool.run(message))) for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_servers_run_two_samples_at_once() -> None:
    with ForkServerPool(2, LIMITS) as pool:
        run_together(pool, request("import time\ntime.sleep(0.3)\n"), 2)  # both servers warm
        started = time.monotonic()
        results = run_together(pool, request("import time\ntime.sleep(1.0)\n", ["pass"]), 2)
        elapsed = time.monotonic() - started
    assert [passed(response) for response in results] == [[0], [0]]
    assert elapsed < 1.9  # one after the other takes at least 2 s


def test_closing_the_pool_ends_its_servers() -> None:
    pool = ForkServerPool(1, LIMITS)
    pool.run(request("pass\n"))
    server = next(iter(pool.servers._servers))
    pool.close()
    assert server.process.poll() is not None
    assert passed(pool.run(request("y = 2\n", ["assert y == 2"]))) == [0]  # usable again
    pool.close()


def test_environment_names_the_interpreter_and_the_harness_version() -> None:
    environment = python_environment()
    assert environment["python"].split()[0] == ".".join(map(str, os.sys.version_info[:3]))
    assert len(environment["harness"]) == 64
