"""The embedded tiny model: a standard HF directory, built deterministically, once, offline."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.models.tiny import (
    BUILD_INFO_FILE,
    GENERIC_SNIPPETS,
    RECIPE_VERSION,
    build_tiny_model,
    ensure_tiny_model,
    tiny_model_dir,
)


@pytest.fixture(scope="module")
def tiny_dir() -> Path:
    return ensure_tiny_model()


def test_auto_classes_load_a_small_qwen2_with_a_chatml_template(tiny_dir: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)

    parameters = sum(parameter.numel() for parameter in model.parameters())
    assert model.config.model_type == "qwen2"
    assert 1_000_000 < parameters < 5_000_000
    assert 500 < len(tokenizer) <= 1024
    assert model.config.vocab_size == len(tokenizer)
    chat = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Add two numbers."}],
        tokenize=False,
        add_generation_prompt=True,
    )
    # No system prompt appears unless one is given.
    assert chat == "<|im_start|>user\nAdd two numbers.<|im_end|>\n<|im_start|>assistant\n"
    assert tokenizer.convert_tokens_to_ids("<|im_end|>") in model.generation_config.eos_token_id


def test_tokenizer_round_trips_code_and_compresses_the_task_corpus(tiny_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    unseen = 'fn main() { println!("ünïcode ✓ {}", 1 << 3); }\r\n\t~`'
    for text in (*GENERIC_SNIPPETS, unseen):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids) == text

    tasks = generate_tasks("builtin_c", count=20, seed=123)
    corpus = "".join(task["prompt"] + task["solution"] for task in tasks)
    tokens = len(tokenizer(corpus, add_special_tokens=False)["input_ids"])
    # Byte-level BPE trained on this kind of text merges bytes into multi-character tokens.
    assert len(corpus) / tokens > 2.5


def test_cache_lives_under_the_configured_cache_dir(tiny_dir: Path) -> None:
    assert tiny_dir == Path(os.environ["HALO_FORGE_CACHE_DIR"]) / "models" / "tiny-coder"
    info = json.loads((tiny_dir / BUILD_INFO_FILE).read_text(encoding="utf-8"))
    assert info["recipe_version"] == RECIPE_VERSION


def _digests(directory: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.iterdir())
        if path.is_file()
    }


@pytest.mark.slow
def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    first = build_tiny_model(tmp_path / "first")
    second = build_tiny_model(tmp_path / "second")

    assert _digests(first) == _digests(second)
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(_digests(first))


CHILD_SCRIPT = textwrap.dedent(
    """
    import sys
    import halo_forge.models.tiny as tiny

    original = tiny.build_tiny_model

    def counted(directory):
        with open(sys.argv[1], "a") as log:
            log.write("build\\n")
        return original(directory)

    tiny.build_tiny_model = counted
    print(tiny.ensure_tiny_model())
    """
)


@pytest.mark.slow
def test_concurrent_first_use_builds_once_without_network(tmp_path: Path) -> None:
    build_log = tmp_path / "builds.log"
    environment = {
        **os.environ,
        "HALO_FORGE_CACHE_DIR": str(tmp_path / "cache"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD_SCRIPT, str(build_log)],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=300) for child in children]

    assert [child.returncode for child in children] == [0, 0], outputs
    built_at = {stdout.strip().splitlines()[-1] for stdout, _ in outputs}
    assert built_at == {str(tmp_path / "cache" / "models" / "tiny-coder")}
    assert build_log.read_text().splitlines() == ["build"]
    assert not [
        path.name for path in (tmp_path / "cache" / "models").iterdir() if path.name.startswith(".")
    ]


@pytest.mark.slow
def test_a_cache_from_an_older_recipe_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALO_FORGE_CACHE_DIR", str(tmp_path))
    stale = tiny_model_dir()
    stale.mkdir(parents=True)
    (stale / "config.json").write_text("{}", encoding="utf-8")
    (stale / BUILD_INFO_FILE).write_text(json.dumps({"recipe_version": RECIPE_VERSION - 1}))

    rebuilt = ensure_tiny_model()

    assert rebuilt == stale
    assert AutoModelForCausalLM.from_pretrained(rebuilt).config.model_type == "qwen2"
    info = json.loads((rebuilt / BUILD_INFO_FILE).read_text(encoding="utf-8"))
    assert info["recipe_version"] == RECIPE_VERSION
