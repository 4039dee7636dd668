"""`halo-forge verify`: score a JSONL of completions, resume after a kill, explain bad options."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from halo_forge import ui
from halo_forge.cli.overrides import parse_key_values
from halo_forge.cli.verify_cmd import verify
from halo_forge.errors import ConfigError, DataError, VerifierError

SUM = "#include <iostream>\nint main() { int a, b; std::cin >> a >> b; std::cout << a + b; }\n"
RECORDS = [
    {"task_id": 1, "completion": f"```cpp\n{SUM}```", "stdin": "1 2", "expected_output": "3"},
    {"task_id": 2, "code": SUM.replace("a + b", "a - b"), "stdin": "1 2", "expected_output": "3"},
    {"task_id": 3, "text": "int main() { return 0 }", "expected_output": "0"},
]

runner = CliRunner()


@pytest.fixture(autouse=True)
def fresh_console() -> Iterator[None]:
    """The console binds to the stdout of its first use: let it bind to the runner's, then reset."""
    ui.set_quiet(False)
    yield
    ui.set_quiet(False)


def app() -> typer.Typer:
    """A local app with only `verify`, as the root CLI registers it."""
    local = typer.Typer()
    local.command("verify")(verify)

    @local.callback()
    def root() -> None:
        """Keep `verify` a subcommand."""

    return local


def write_input(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def read_output(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_verify_scores_each_record_and_prints_a_summary(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", RECORDS)
    output = tmp_path / "out.jsonl"
    result = runner.invoke(
        app(),
        ["verify", str(source), "--output", str(output), "--run-after-compile", "--no-cache"],
    )
    assert result.exit_code == 0, result.output
    scored = read_output(output)
    assert [record["reward"] for record in scored] == [1.0, 0.7, 0.0]
    assert [record["task_id"] for record in scored] == [1, 2, 3]
    assert scored[1]["code"] == RECORDS[1]["code"]  # the input record is kept whole
    assert scored[0]["metadata"]["stage"] == "run" and scored[2]["metadata"]["stage"] == "compile"
    for expected in ("compile rate: 66.7%", "pass rate: 33.3%", "samples/s", "1.00", "0.70"):
        assert expected in result.output


def test_killed_run_resumes_without_redoing_finished_records(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", RECORDS)
    output = tmp_path / "out.jsonl"
    first = {**RECORDS[0], "reward": 0.25, "success": False, "details": "written before the kill",
             "error": None, "metadata": {}}  # fmt: skip
    output.write_text(json.dumps(first) + "\n" + '{"task_id": 2, "cod')  # torn last line
    result = runner.invoke(
        app(), ["verify", str(source), "-o", str(output), "--set", "run_after_compile=true"]
    )
    assert result.exit_code == 0, result.output
    scored = read_output(output)
    assert len(scored) == 3
    assert scored[0]["details"] == "written before the kill"  # not verified again
    assert [record["reward"] for record in scored[1:]] == [0.7, 0.0]
    assert "resuming: 1 of 3" in result.output


def test_output_of_another_input_is_refused(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", RECORDS)
    output = write_input(tmp_path / "out.jsonl", [{"completion": "something else", "reward": 0}])
    result = runner.invoke(app(), ["verify", str(source), "-o", str(output)])
    assert isinstance(result.exception, DataError)
    assert "belongs to another input" in str(result.exception)


def test_record_without_output_field_names_the_fields(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", [{"prompt": "p"}])
    result = runner.invoke(app(), ["verify", str(source), "-o", str(tmp_path / "o.jsonl")])
    assert isinstance(result.exception, DataError)
    assert "in.jsonl: record 1" in str(result.exception) and "completion, code, text" in str(
        result.exception
    )


def test_unknown_verifier_lists_the_choices(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", RECORDS)
    result = runner.invoke(
        app(), ["verify", str(source), "-o", str(tmp_path / "o.jsonl"), "--verifier", "msvc9"]
    )
    assert isinstance(result.exception, VerifierError)
    assert "gcc" in str(result.exception) and "clang" in str(result.exception)


def test_bad_option_value_gives_the_allowed_values(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", RECORDS)
    result = runner.invoke(
        app(), ["verify", str(source), "-o", str(tmp_path / "o.jsonl"), "--set", "language=go"]
    )
    assert isinstance(result.exception, VerifierError)
    assert "'c++' or 'c'" in str(result.exception)


def test_help_lists_the_verifiers() -> None:
    result = runner.invoke(app(), ["verify", "--help"])
    assert result.exit_code == 0
    for name in ("gcc", "clang", "mingw", "subprocess"):
        assert name in result.output


def test_set_values_are_read_as_yaml() -> None:
    assert parse_key_values(
        ["run_timeout=2.5", "flags=[-O1, -Wall]", "link=false", "x=", "lr=5e-5"], "--set"
    ) == {
        "run_timeout": 2.5,
        "lr": 5e-5,  # a float, as in a config file (plain YAML 1.1 reads a string)
        "flags": ["-O1", "-Wall"],
        "link": False,
        "x": "",
    }
    with pytest.raises(typer.BadParameter, match="KEY=VALUE"):
        parse_key_values(["run_timeout"], "--set")


def test_verify_runs_as_a_real_command(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", RECORDS[:2])
    output = tmp_path / "out.jsonl"
    script = (
        "import sys, typer\n"
        "from halo_forge.cli.verify_cmd import verify\n"
        "app = typer.Typer()\n"
        "app.command()(verify)\n"
        "app()\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, str(source), "--output", str(output), "--compile-only"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert [record["reward"] for record in read_output(output)] == [0.5, 0.5]
    assert "compile rate: 100.0%" in completed.stdout


def verify_into(output: Path, source: Path, *options: str) -> Result:
    """`halo-forge verify SOURCE -o OUTPUT --no-cache OPTIONS...`: no result from the cache."""
    return runner.invoke(app(), ["verify", str(source), "-o", str(output), "--no-cache", *options])


def test_rerun_with_a_changed_option_is_refused_naming_it(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", RECORDS)
    output = tmp_path / "out.jsonl"
    assert verify_into(output, source, "--run-after-compile").exit_code == 0
    before = output.read_text()

    result = verify_into(output, source, "--run-after-compile", "--set", "run_timeout=3")

    assert isinstance(result.exception, ConfigError)
    message = str(result.exception)
    assert "verifier.run_timeout: 5.0 -> 3.0" in message and "--force" in message
    assert output.read_text() == before


def test_force_verifies_every_record_again_with_the_new_settings(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", RECORDS)
    output = tmp_path / "out.jsonl"
    assert verify_into(output, source, "--compile-only").exit_code == 0
    assert [record["reward"] for record in read_output(output)] == [0.5, 0.5, 0.0]

    forced = verify_into(output, source, "--run-after-compile", "--force")

    assert forced.exit_code == 0, forced.output
    assert [record["reward"] for record in read_output(output)] == [1.0, 0.7, 0.0]
    assert "verified 3 samples" in forced.output
    again = verify_into(output, source, "--run-after-compile")  # the new settings are stored
    assert again.exit_code == 0, again.output
    assert "verified 0 samples" in again.output


def test_rerun_with_the_same_settings_keeps_every_verified_record(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", RECORDS[:2])
    output = tmp_path / "out.jsonl"
    assert verify_into(output, source, "--run-after-compile").exit_code == 0
    scored = read_output(output)
    scored[0]["details"] = "kept from the first run"  # a re-verification would overwrite this
    output.write_text("".join(json.dumps(record) + "\n" for record in scored))
    write_input(source, RECORDS)  # one more record since

    # --workers decides how fast, not what: it does not count as a changed setting.
    result = verify_into(output, source, "--run-after-compile", "--workers", "1")

    assert result.exit_code == 0, result.output
    rescored = read_output(output)
    assert rescored[0]["details"] == "kept from the first run"
    assert [record["reward"] for record in rescored] == [1.0, 0.7, 0.0]
    assert "resuming: 2 of 3" in result.output and "verified 1 samples" in result.output


def test_summary_says_when_the_pass_rate_only_means_compiled(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", RECORDS)  # all three carry an expected output

    result = verify_into(tmp_path / "out.jsonl", source, "--compile-only")

    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())  # the terminal wraps long lines
    assert "compile-only: 3 samples carry tests that were not run; pass means compiled" in printed
    plain = verify_into(tmp_path / "run.jsonl", source, "--run-after-compile")
    assert "compile-only" not in plain.output
