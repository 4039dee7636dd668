"""Options of every local verifier that builds and may run a program: typed, validated, each
with a description for `--help`.

A config `verifier: {type: gcc, ...}` and the CLI's `--set KEY=VALUE` are checked against these
models, so a mistyped key or a bad value fails with the key and what is allowed. Each language
adds its own options on top (`cpp/options.py`, `languages/base.py`).
"""

from __future__ import annotations

from pydantic import Field

from halo_forge.verifiers.sandbox.options import SandboxOptions


class BuildOptions(SandboxOptions):
    """Options of every local verifier that builds and may run a program (C, C++, Rust, Go, C#)."""

    max_workers: int | None = Field(None, ge=1, description="Parallel verifications (CPU count).")
    run_after_compile: bool | None = Field(
        None,
        description="Run the program and check its output: true always, false never (compile "
        "only; samples whose checks are skipped get metadata['compile_only']), unset whenever "
        "the sample has something to check a run against (test_cases, expected_output, stdin "
        "or test code in `tests`, or the expected_output/stdin_input options).",
    )
    run_timeout: float = Field(5.0, gt=0, description="Seconds allowed for one run.")
    expected_output: str | None = Field(None, description="Default expected stdout of a run.")
    stdin_input: str | None = Field(None, description="Default stdin of a run.")
    memory_limit_mb: int = Field(512, ge=16, description="Memory limit of a run, in MiB.")
    use_cache: bool = Field(True, description="Reuse results from the on-disk result cache.")
    compiler: str | None = Field(
        None, description="Compiler executable to use instead (for every language)."
    )
