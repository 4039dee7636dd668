"""`halo-forge data validate|split|prepare`, driven through the typer app on real files."""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from typer.testing import CliRunner, Result

from halo_forge import ui
from halo_forge.cli import data_cmd
from halo_forge.data.jsonl import read_jsonl
from halo_forge.data.public_datasets import DATASETS
from halo_forge.data.records import read_records
from halo_forge.errors import ConfigError, DataError

runner = CliRunner()

MBPP_ROW = {
    "task_id": 11,
    "text": "Write a python function to double every number of a list.",
    "code": "def double_all(items):\n    return [2 * item for item in items]",
    "test_list": ["assert double_all([1, 2]) == [2, 4]"],
    "test_setup_code": "",
    "challenge_test_list": [],
}


def invoke(*arguments: str | Path) -> Result:
    ui.set_quiet(False)  # a fresh console bound to this invocation's captured stdout
    return runner.invoke(
        data_cmd.app, [str(argument) for argument in arguments], env={"COLUMNS": "200"}
    )


def write_lines(path: Path, *lines: object) -> Path:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- validate


def test_validate_a_good_file_exits_zero_with_its_report(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "sft.jsonl",
        {"prompt": "p", "completion": "c", "language": "rust"},
        {"prompt": "q", "completion": "d", "language": "rust"},
    )
    result = invoke("validate", path, "--preview", "1")
    assert result.exit_code == 0, result.output
    for expected in ("VALID", "sft (prompt/completion x2)", "2 total, 2 valid, 0 invalid", "rust"):
        assert expected in result.output
    assert '"prompt": "p"' in result.output and '"prompt": "q"' not in result.output


def test_validate_a_file_with_bad_lines_exits_one_and_lists_them(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "sft.jsonl", {"prompt": "p", "completion": "c"}, "[1, 2]")
    result = invoke("validate", path)
    assert result.exit_code == 1
    assert "INVALID" in result.output
    assert "line 2: expected a JSON object, got list" in result.output


def test_validate_skip_invalid_accepts_a_file_with_some_valid_records(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "sft.jsonl", {"prompt": "p", "completion": "c"}, "[1, 2]")
    result = invoke("validate", path, "--skip-invalid")
    assert result.exit_code == 0
    assert "line 2:" in result.output
    only_bad = write_lines(tmp_path / "bad.jsonl", "[1, 2]")
    assert invoke("validate", only_bad, "--skip-invalid").exit_code == 1


def test_validate_rejects_an_unknown_format_naming_the_allowed_ones(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "sft.jsonl", {"text": "t"})
    result = invoke("validate", path, "--format", "csv")
    assert result.exit_code == 2
    assert "'auto', 'sft', 'rlvr'" in result.output


def test_validate_with_a_verifier_lists_the_prompts_it_cannot_score(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "prompts.jsonl",
        {"prompt": "Write add(a, b).", "task_id": 1, "tests": "assert add(1, 2) == 3"},
        "",
        {"prompt": "Write sub(a, b).", "task_id": 2},
    )
    result = invoke("validate", path, "--verifier", "mbpp")
    assert result.exit_code == 1, result.output
    assert "INVALID" in result.output and "mbpp: 1 of 2 records scorable" in result.output
    assert "line 3: no `tests`" in result.output and "line 1:" not in result.output
    assert "compile verifier such as gcc" in result.output
    assert invoke("validate", path, "--verifier", "gcc").exit_code == 0


def test_validate_takes_the_verifier_options_and_checks_their_names(tmp_path: Path) -> None:
    tasks = write_lines(
        tmp_path / "tasks.jsonl", {"task_id": 2, "prompt": "x", "tests": "assert 1"}
    )
    path = write_lines(tmp_path / "prompts.jsonl", {"prompt": "Write sub(a, b).", "task_id": 2})
    result = invoke("validate", path, "--verifier", "mbpp", "--verifier-option", f"tasks={tasks}")
    assert result.exit_code == 0, result.output
    misspelt = invoke("validate", path, "--verifier", "mbpp", "--verifier-option", "task=x")
    assert "did you mean 'tasks'" in str(misspelt.exception)
    assert "did you mean 'gcc'" in str(invoke("validate", path, "--verifier", "gcx").exception)


def test_validate_refuses_to_check_sft_records_against_a_verifier(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "sft.jsonl", {"prompt": "p", "completion": "c"})
    result = invoke("validate", path, "--verifier", "gcc")
    assert isinstance(result.exception, DataError)
    assert "RLVR prompt records" in str(result.exception)


# ----------------------------------------------------------------------------- split


def test_split_writes_both_parts_and_the_per_group_counts(tmp_path: Path, log_dir: str) -> None:
    source = write_lines(
        tmp_path / "prompts.jsonl",
        *({"prompt": f"task {index}", "category": "ab"[index % 2]} for index in range(10)),
    )
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    arguments = ["split", "--input", source, "--train", train, "--test", test, "--ratio", "0.8"]
    result = invoke(*arguments, "--stratify", "category", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert f"rlvr: 8 records -> {train}, 2 records -> {test}" in result.output
    train_prompts = [record.prompt for record in read_records(train)]
    test_prompts = [record.prompt for record in read_records(test)]
    assert sorted(train_prompts + test_prompts) == sorted(f"task {index}" for index in range(10))

    first_train = train.read_text(encoding="utf-8")
    assert invoke(*arguments, "--stratify", "category", "--seed", "3").exit_code == 0
    assert train.read_text(encoding="utf-8") == first_train
    assert any(Path(log_dir).glob("data_split_*.log"))


def test_split_with_a_ratio_of_one_is_a_config_error(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "prompts.jsonl", {"prompt": "a"}, {"prompt": "b"})
    result = invoke(
        "split",
        "--input",
        source,
        "--train",
        tmp_path / "a",
        "--test",
        tmp_path / "b",
        "--ratio",
        "1",
    )
    assert isinstance(result.exception, ConfigError)
    assert "between 0 and 1" in str(result.exception)


# ----------------------------------------------------------------------------- prepare


def test_prepare_list_shows_every_dataset_with_hub_id_and_verifier() -> None:
    result = invoke("prepare", "--list")
    assert result.exit_code == 0
    for entry in DATASETS.values():
        assert entry.name in result.output
        assert entry.hub_id in result.output
        assert (entry.verifier or "-") in result.output


def test_prepare_from_a_local_copy_writes_prompts_and_sft_records(
    tmp_path: Path, log_dir: str
) -> None:
    source = write_lines(tmp_path / "mbpp.jsonl", MBPP_ROW)
    output = tmp_path / "data" / "mbpp.jsonl"
    result = invoke(
        "prepare",
        "--dataset",
        "mbpp",
        "--from",
        source,
        "--output",
        output,
        "--format",
        "both",
        "--template",
        "qwen",
        "--system-prompt",
        "Answer in Python.",
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote 1 RLVR prompts -> {output} (verifier: mbpp)" in result.output
    (prompt,) = read_records(output, "rlvr")
    (pair,) = read_records(tmp_path / "data" / "mbpp.sft.jsonl", "sft")
    assert prompt.system_prompt == "Answer in Python."
    assert pair.prompt.startswith("<|im_start|>system\nAnswer in Python.<|im_end|>\n")
    assert pair.completion.endswith("```<|im_end|>")
    logs = list(Path(log_dir).glob("data_prepare_*.log"))
    assert any("Wrote 1 SFT records" in log.read_text(encoding="utf-8") for log in logs)


def test_prepare_with_a_tokenizer_uses_its_chat_template(tmp_path: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.train_from_iterator(
        ["double a list"], trainers.WordLevelTrainer(special_tokens=["[UNK]", "</s>"])
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="</s>")
    tokenizer.chat_template = (
        "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}<bot>"
    )
    tokenizer.save_pretrained(tmp_path / "tokenizer")

    source = write_lines(tmp_path / "mbpp.jsonl", MBPP_ROW)
    output = tmp_path / "sft.jsonl"
    result = invoke(
        "prepare",
        "--dataset",
        "mbpp",
        "--from",
        source,
        "--output",
        output,
        "--format",
        "sft",
        "--tokenizer",
        tmp_path / "tokenizer",
    )
    assert result.exit_code == 0, result.output
    (pair,) = read_records(output, "sft")
    assert pair.prompt.startswith("<user>Write a python function") and pair.prompt.endswith("<bot>")
    assert pair.completion.endswith("```</s>")


def test_prepare_needs_a_dataset_and_an_output(tmp_path: Path) -> None:
    result = invoke("prepare", "--output", tmp_path / "x.jsonl")
    assert isinstance(result.exception, ConfigError)
    assert "--dataset NAME" in str(result.exception)


def test_prepare_rejects_an_unknown_template_naming_the_allowed_ones(tmp_path: Path) -> None:
    result = invoke(
        "prepare", "--dataset", "mbpp", "--output", tmp_path / "x", "--template", "vicuna"
    )
    assert result.exit_code == 2
    assert "'qwen', 'chatml', 'llama3', 'raw'" in result.output


def test_prepare_reports_skipped_rows_and_a_missing_copy(tmp_path: Path) -> None:
    rows = [
        {"instruction": "Say hi.", "input": "", "output": "hi"},
        {"instruction": " ", "output": "x"},
    ]
    source = write_lines(tmp_path / "alpaca.jsonl", *rows)
    result = invoke("prepare", "-d", "codealpaca", "--from", source, "-o", tmp_path / "a.jsonl")
    assert result.exit_code == 0, result.output
    assert "Wrote 1 SFT records" in result.output
    assert "Skipped 1 rows: invalid row (field 'prompt': expected non-empty text" in result.output

    missing = invoke("prepare", "-d", "mbpp", "--from", tmp_path / "absent", "-o", tmp_path / "b")
    assert isinstance(missing.exception, DataError)
    assert "no such file or folder" in str(missing.exception)


def test_prepare_builtin_suite_writes_prompts_without_solutions(tmp_path: Path) -> None:
    output = tmp_path / "builtin.jsonl"
    result = invoke(
        "prepare", "--dataset", "builtin_c", "--output", output, "--format", "both",
        "--limit", "4", "--seed", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    prompts = read_jsonl(output)
    pairs = read_jsonl(tmp_path / "builtin.sft.jsonl")
    assert len(prompts) == len(pairs) == 4
    assert all("solution" not in record and record["test_cases"] for record in prompts)
    assert all(pair["completion"].startswith("```c\n") for pair in pairs)
    again = tmp_path / "again.jsonl"
    assert (
        invoke("prepare", "-d", "builtin_c", "-o", again, "--limit", "4", "--seed", "3").exit_code
        == 0
    )
    assert read_jsonl(again) == prompts  # deterministic for the seed


def test_prepare_builtin_suite_refuses_from(tmp_path: Path) -> None:
    result = invoke(
        "prepare", "-d", "builtin_python", "-o", tmp_path / "x.jsonl", "--from", tmp_path
    )
    assert result.exit_code != 0
    assert "generated locally" in str(result.exception or result.output)
