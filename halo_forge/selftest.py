"""`halo-forge test`: a checklist that says whether this installation works, part by part.

Three levels, each a superset of the one before:
- `smoke` (seconds, no model): the packages import, the compilers are found, the verifiers
  accept known-good programs and reject known-bad ones, and the sandbox protections are active.
- `standard`: a model loads (the embedded one by default, any Hugging Face id with `model`),
  generates, and its output goes through the real verifier.
- `full`: a RAFT cycle on two prompts end to end, and one training step that moves the weights.

Each check is a function that returns a one-line detail or raises; `run_checks` times it and
turns an exception into a failed row, so one broken part never hides the others.
"""

from __future__ import annotations

import functools
import importlib
import math
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from halo_forge.errors import ConfigError, HaloForgeError

LEVELS = ("smoke", "standard", "full")
SMOKE_MODULES = (
    "halo_forge.config",
    "halo_forge.data.builtin_tasks",
    "halo_forge.data.records",
    "halo_forge.verifiers",
    "halo_forge.verifiers.registry",
    "halo_forge.verifiers.sandbox",
)
REQUIRED_COMPILERS = ("gcc", "g++")
GENERATION_TOKENS = 64


class CheckFailed(HaloForgeError):
    """A self-test check found the part it checks broken; the message says what and the fix."""


@dataclass(frozen=True)
class Check:
    """One row of the checklist: a name and a function that returns a detail or raises."""

    name: str
    run: Callable[[], str]


@dataclass(frozen=True)
class CheckResult:
    """How one check went: passed or not, how long it took, and what it found."""

    name: str
    passed: bool
    seconds: float
    detail: str
    traceback: str | None = None


def _builtin_task(suite: str) -> dict[str, Any]:
    """The first task of a built-in suite: a real prompt with its reference solution and tests."""
    from halo_forge.data.builtin_tasks import generate_tasks

    return generate_tasks(suite, count=1, seed=0)[0]


def _verification_context(task: dict[str, Any]) -> dict[str, Any]:
    from halo_forge.data.converters import builtin_task

    return builtin_task(task).prompt.verification_context()


def _suite_verifier(suite: str) -> Any:
    from halo_forge.data.builtin_tasks import BUILTIN_SUITES
    from halo_forge.verifiers.registry import build_verifier

    info = BUILTIN_SUITES[suite]
    return build_verifier(info.verifier, **info.verifier_options)


def check_imports() -> str:
    """The core packages import (none of them may need torch)."""
    for module in SMOKE_MODULES:
        importlib.import_module(module)
    return f"{len(SMOKE_MODULES)} modules"


def check_compilers() -> str:
    """gcc and g++ are on PATH: the C/C++ verifiers and the demo need them."""
    from halo_forge.system_info import toolchain_version

    missing = [name for name in REQUIRED_COMPILERS if shutil.which(name) is None]
    if missing:
        raise CheckFailed(
            f"not found on PATH: {', '.join(missing)}; install them "
            "(Debian/Ubuntu: apt-get install build-essential)"
        )
    return toolchain_version(("gcc",), "--version") or "gcc"


def _check_known_programs(suite: str, good: str, bad: dict[str, str]) -> str:
    """The suite's verifier gives the good program reward 1.0 and each bad one less."""
    task = _builtin_task(suite)
    context = _verification_context(task)
    with _suite_verifier(suite) as verifier:
        accepted = verifier.verify(good, **context)
        if not accepted.success or accepted.reward != 1.0:
            raise CheckFailed(
                f"{suite}: the reference solution of {task['task_id']} was rejected "
                f"(reward {accepted.reward}): {accepted.error or accepted.details}"
            )
        for label, code in bad.items():
            rejected = verifier.verify(code, **context)
            if rejected.success or rejected.reward >= 1.0:
                raise CheckFailed(f"{suite}: a {label} program was accepted for {task['task_id']}")
    return f"{task['task_id']}: solution accepted, {' and '.join(bad)} rejected"


def check_c_verifier() -> str:
    """gcc compiles and runs a known-good C program and rejects a broken and a wrong one."""
    solution = _builtin_task("builtin_c")["solution"]
    return _check_known_programs(
        "builtin_c",
        solution,
        {
            "non-compiling": solution.replace("return", "retrun", 1),
            "wrong-output": solution.replace("return ", "return 1 + ", 1),
        },
    )


def check_python_verifier() -> str:
    """The Python test verifier passes a known-good function and fails a broken and a wrong one."""
    task = _builtin_task("builtin_python")
    name = task["entry_point"]
    return _check_known_programs(
        "builtin_python",
        task["solution"],
        {
            "syntax-error": task["solution"].replace("def ", "def (", 1),
            "wrong-answer": f"def {name}(*args, **kwargs):\n    return None\n",
        },
    )


def check_sandbox() -> str:
    """The sandbox limits the process count and cuts the network, as probed on this machine."""
    from halo_forge.verifiers.sandbox import isolation_report

    report = isolation_report()
    rows = {name: (how, active) for name, how, active in report.as_rows()}
    inactive = [
        name for name in ("process limit", "network", "resource limits") if not rows[name][1]
    ]
    if inactive:
        raise CheckFailed(
            f"sandbox protections inactive: {', '.join(inactive)} ({'; '.join(report.warnings)})"
        )
    return f"process limit {report.process_limit}, network {report.network}"


def _load(model: str) -> tuple[Any, Any]:
    """The model and tokenizer, with the thread count the demo uses for the embedded model."""
    import torch

    from halo_forge.demo.settings import cpu_threads
    from halo_forge.models.loading import load_model

    threads = cpu_threads(model)
    if threads is not None:
        torch.set_num_threads(threads)
    return load_model(model, device="cpu" if model.startswith("builtin:") else None)


@functools.lru_cache(maxsize=4)
def _generate(model: str, prompt: str, samples: int) -> tuple[str, ...]:
    """Samples for `prompt`, cached so the generation and verification checks share them."""
    from halo_forge.data.templates import format_prompt
    from halo_forge.generation.registry import get_sampler
    from halo_forge.training.sft import sft_template

    loaded, tokenizer = _load(model)
    sampler = get_sampler("transformers", loaded, tokenizer=tokenizer, batch_size=1)
    text = format_prompt(prompt, None, sft_template(tokenizer))
    completions = sampler.generate(
        [text], n=samples, temperature=1.0, max_new_tokens=GENERATION_TOKENS, seed=0
    )
    return tuple(completions[0])


def check_model_loading(model: str) -> str:
    """The model and its tokenizer load, and the model has weights."""
    loaded, tokenizer = _load(model)
    parameters = sum(parameter.numel() for parameter in loaded.parameters())
    return f"{model}: {parameters:,} parameters, vocabulary {len(tokenizer):,}"


def check_generation(model: str) -> str:
    """The model samples non-empty text for a real task prompt."""
    completions = _generate(model, _builtin_task("builtin_c")["prompt"], samples=2)
    if not any(completion.strip() for completion in completions):
        raise CheckFailed(f"{model} generated only empty text for a task prompt")
    return f"{len(completions)} samples, {sum(map(len, completions))} characters"


def check_generated_code_verification(model: str) -> str:
    """The model's own samples go through gcc and come back scored, whatever their quality."""
    task = _builtin_task("builtin_c")
    completions = _generate(model, task["prompt"], samples=2)
    with _suite_verifier("builtin_c") as verifier:
        context = _verification_context(task)
        results = verifier.verify_batch(list(completions), contexts=[context] * len(completions))
    rewards = [result.reward for result in results]
    if len(results) != len(completions) or not all(0.0 <= reward <= 1.0 for reward in rewards):
        raise CheckFailed(f"verification of {len(completions)} samples returned {rewards}")
    return "rewards " + ", ".join(f"{reward:.2f}" for reward in rewards)


def check_raft_cycle(model: str) -> str:
    """One RAFT cycle on two prompts: generate, verify, filter, and a checkpoint on disk."""
    from halo_forge.config.models import (
        GenerationSection,
        RAFTConfig,
        RAFTLoopSection,
        RAFTTrainingSection,
    )
    from halo_forge.data.builtin_tasks import BUILTIN_SUITES, generate_tasks
    from halo_forge.data.converters import builtin_task
    from halo_forge.raft import RAFTTrainer

    info = BUILTIN_SUITES["builtin_c"]
    prompts = [builtin_task(task).prompt for task in generate_tasks("builtin_c", 2, seed=0)]
    config = RAFTConfig(
        raft=RAFTLoopSection(num_cycles=1, samples_per_prompt=2, reward_threshold=0.5),
        generation=GenerationSection(max_new_tokens=GENERATION_TOKENS, temperature=1.0),
        training=RAFTTrainingSection(batch_size=2, gradient_accumulation_steps=1),
        verifier={"type": info.verifier, **info.verifier_options},
    )
    with tempfile.TemporaryDirectory(prefix="halo-forge-selftest-") as directory:
        result = RAFTTrainer(model=model, config=config, output_dir=directory).run(prompts)
        if not result.final_checkpoint.is_dir():
            raise CheckFailed(f"the cycle wrote no checkpoint at {result.final_checkpoint}")
        cycle = result.cycles[0]
    return f"{cycle.kept} of {cycle.prompts * 2} samples kept, checkpoint written"


def check_training_step(model: str) -> str:
    """One optimizer step on a reference solution: a finite loss and weights that moved."""
    import torch

    from halo_forge.data.converters import builtin_task
    from halo_forge.models.lora import prepare_lora
    from halo_forge.training.sft import train_on_records

    converted = builtin_task(_builtin_task("builtin_c"))
    record = {"prompt": converted.prompt.prompt, "completion": converted.completion}
    loaded, tokenizer = _load(model)
    loaded = prepare_lora(loaded)
    before = {
        name: parameter.detach().clone()
        for name, parameter in loaded.named_parameters()
        if parameter.requires_grad
    }
    with tempfile.TemporaryDirectory(prefix="halo-forge-selftest-") as directory:
        result = train_on_records(
            loaded,
            tokenizer,
            [record],
            directory,
            learning_rate=1e-3,
            batch_size=1,
            gradient_accumulation_steps=1,
            device="cpu" if model.startswith("builtin:") else None,
        )
    loss = result.outcome.train_loss
    moved = any(
        not torch.equal(before[name], parameter.detach().to(before[name].device))
        for name, parameter in loaded.named_parameters()
        if name in before
    )
    if loss is None or not math.isfinite(loss) or not moved:
        raise CheckFailed(f"training step: loss {loss}, weights changed: {moved}")
    return f"loss {loss:.3f}, {len(before)} trainable tensors updated"


def checks_for(level: str, model: str | None = None) -> list[Check]:
    """The checks of `level` (each level adds to the one before); `model` for standard/full."""
    if level not in LEVELS:
        raise ConfigError(f"unknown test level {level!r}; choose one of: {', '.join(LEVELS)}")
    checks = [
        Check("imports", check_imports),
        Check("compilers found", check_compilers),
        Check("C verifier: good accepted, bad rejected", check_c_verifier),
        Check("Python verifier: good accepted, bad rejected", check_python_verifier),
        Check("sandbox protections active", check_sandbox),
    ]
    if level in ("standard", "full"):
        from halo_forge.models.tiny import TINY_MODEL_NAME  # imports torch: not for smoke

        chosen = model or TINY_MODEL_NAME
        checks += [
            Check("model loading", lambda: check_model_loading(chosen)),
            Check("generation", lambda: check_generation(chosen)),
            Check(
                "verification of generated code", lambda: check_generated_code_verification(chosen)
            ),
        ]
    if level == "full":
        checks += [
            Check("RAFT cycle", lambda: check_raft_cycle(chosen)),
            Check("training step", lambda: check_training_step(chosen)),
        ]
    return checks


def run_check(check: Check) -> CheckResult:
    """Run one check, timing it; any exception makes a failed row, never a crash."""
    started = time.perf_counter()
    try:
        detail = check.run()
    except Exception as error:
        return CheckResult(
            check.name,
            False,
            time.perf_counter() - started,
            f"{type(error).__name__}: {error}",
            traceback.format_exc(),
        )
    return CheckResult(check.name, True, time.perf_counter() - started, detail)


def run_checks(
    checks: list[Check], on_result: Callable[[CheckResult], None] | None = None
) -> list[CheckResult]:
    """Run every check in order (a failure does not stop the rest); `on_result` sees each row."""
    results = []
    for check in checks:
        result = run_check(check)
        if on_result is not None:
            on_result(result)
        results.append(result)
    return results
