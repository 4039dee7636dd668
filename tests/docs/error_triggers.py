"""Cheap ways to make halo-forge raise each error the troubleshooting page quotes.

Each trigger runs the real code path with a small bad input and returns the message the user
would read (the CLI prints a HaloForgeError's message after "Error: ").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from halo_forge.errors import HaloForgeError


def _message(action: Callable[[], object]) -> str:
    try:
        action()
    except (HaloForgeError, ValueError) as error:
        return str(error)
    raise AssertionError("the trigger raised nothing")


def unknown_config_key(tmp: Path) -> str:
    from halo_forge.config import RAFTConfig, load_config

    path = tmp / "bad.yaml"
    path.write_text("raft:\n  num_cycels: 3\n")
    return _message(lambda: load_config(RAFTConfig, path))


def value_out_of_range(tmp: Path) -> str:
    from halo_forge.config import RAFTConfig, load_config

    return _message(lambda: load_config(RAFTConfig, overrides={"raft.keep_top_percent": 1.5}))


def config_type_unknown(tmp: Path) -> str:
    from halo_forge.config import detect_config_type

    return _message(lambda: detect_config_type({"num_cycles": 3}))


def unknown_verifier(tmp: Path) -> str:
    from halo_forge.verifiers import build_verifier

    return _message(lambda: build_verifier("gpp"))


def unknown_verifier_option(tmp: Path) -> str:
    from halo_forge.verifiers import build_verifier

    return _message(lambda: build_verifier("gcc", run_after_compiles=True))


def mingw_cannot_run(tmp: Path) -> str:
    from halo_forge.verifiers import build_verifier

    return _message(lambda: build_verifier("mingw", run_after_compile=True))


def compiler_not_found(tmp: Path) -> str:
    from halo_forge.verifiers import build_verifier

    return _message(lambda: build_verifier("gcc", compiler="g++-99"))


def mbpp_without_tests(tmp: Path) -> str:
    from halo_forge.verifiers import build_verifier

    return _message(lambda: build_verifier("mbpp").verify("def f():\n    return 1\n"))


def k_above_samples(tmp: Path) -> str:
    from halo_forge.benchmark.run import check_samples_cover_k
    from halo_forge.config import BenchmarkConfig

    return _message(lambda: check_samples_cover_k(BenchmarkConfig(samples=5, k=[1, 10])))


def broken_jsonl_line(tmp: Path) -> str:
    from halo_forge.data.jsonl import read_jsonl

    path = tmp / "prompts.jsonl"
    path.write_text(json.dumps({"prompt": "ok"}) + "\n{'prompt': 'single quotes'}\n")
    return _message(lambda: read_jsonl(path))


def compare_one_file(tmp: Path) -> str:
    from halo_forge.benchmark.compare import load_runs

    return _message(lambda: load_runs([tmp / "only.json"]))


def missing_result_file(tmp: Path) -> str:
    from halo_forge.benchmark.results import load_result

    return _message(lambda: load_result(tmp / "results" / "raft.json"))


def sft_data_source(tmp: Path) -> str:
    from halo_forge.config import SFTConfig
    from halo_forge.training.sft import load_sft_records

    return _message(lambda: load_sft_records(SFTConfig()))


def bf16_on_cpu(tmp: Path) -> str:
    from halo_forge.config import SFTConfig
    from halo_forge.training.sft import training_options

    config = SFTConfig.model_validate({"training": {"bf16": True}})
    return _message(lambda: training_options(config, device="cpu"))


def unknown_dtype(tmp: Path) -> str:
    import torch

    from halo_forge.models.device import resolve_dtype

    return _message(lambda: resolve_dtype("bf32", torch.device("cpu")))


def unknown_builtin_model(tmp: Path) -> str:
    from halo_forge.models.loading import load_tokenizer

    return _message(lambda: load_tokenizer("builtin:huge-coder"))


def changed_settings_on_resume(tmp: Path) -> str:
    from halo_forge.raft.fingerprint import check_fingerprint

    run = tmp / "models" / "raft"
    run.mkdir(parents=True)
    check_fingerprint(run, {"raft.samples_per_prompt": 8})
    return _message(lambda: check_fingerprint(run, {"raft.samples_per_prompt": 4}))


#: Error id (the `<!-- error: ID -->` marker on the page) -> its trigger.
TRIGGERS: dict[str, Callable[[Path], str]] = {
    "unknown-config-key": unknown_config_key,
    "value-out-of-range": value_out_of_range,
    "config-type-unknown": config_type_unknown,
    "unknown-verifier": unknown_verifier,
    "unknown-verifier-option": unknown_verifier_option,
    "mingw-cannot-run": mingw_cannot_run,
    "compiler-not-found": compiler_not_found,
    "mbpp-without-tests": mbpp_without_tests,
    "k-above-samples": k_above_samples,
    "broken-jsonl-line": broken_jsonl_line,
    "compare-one-file": compare_one_file,
    "missing-result-file": missing_result_file,
    "sft-data-source": sft_data_source,
    "bf16-on-cpu": bf16_on_cpu,
    "unknown-dtype": unknown_dtype,
    "unknown-builtin-model": unknown_builtin_model,
    "changed-settings-on-resume": changed_settings_on_resume,
}
