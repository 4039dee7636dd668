"""`halo-forge verify --verifier msvc --set host=...`: the remote verifier through the registry."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner
from verifiers.ssh_server import BuildHost

from halo_forge import ui
from halo_forge.cli.overrides import parse_key_values
from halo_forge.cli.verify_cmd import verify
from halo_forge.config.models import VerifierConfig
from halo_forge.verifiers.remote.options import RemoteMSVCOptions

SUM = "#include <iostream>\nint main() { int a, b; std::cin >> a >> b; std::cout << a + b; }\n"
RECORDS = [
    {"task_id": 1, "completion": f"```cpp\n{SUM}```", "stdin": "1 2", "expected_output": "3"},
    {"task_id": 2, "code": SUM.replace("a + b", "a - b"), "stdin": "1 2", "expected_output": "3"},
    {"task_id": 3, "text": "int main() { return 0 }", "expected_output": "0"},
]


@pytest.fixture(autouse=True)
def fresh_console() -> Iterator[None]:
    """The console binds to the stdout of its first use: let it bind to the runner's, then reset."""
    ui.set_quiet(False)
    yield
    ui.set_quiet(False)


def verify_app() -> typer.Typer:
    """A local app with only `verify`, as the root CLI registers it."""
    local = typer.Typer()
    local.command("verify")(verify)

    @local.callback()
    def root() -> None:
        """Keep `verify` a subcommand."""

    return local


def test_verify_command_scores_records_on_the_build_host(
    build_host: BuildHost, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in RECORDS))
    output = tmp_path / "out.jsonl"
    remote_dir = tmp_path / "remote"
    settings = {
        "host": "127.0.0.1",
        "port": build_host.port,
        "user": build_host.user,
        "ssh_key": build_host.client_key,
        "known_hosts_file": build_host.known_hosts,
        "shell": "posix",
        "env_setup": build_host.env_setup,
        "remote_dir": remote_dir,
    }
    arguments = ["verify", str(source), "-o", str(output), "--verifier", "msvc"]
    for key, value in settings.items():
        arguments += ["--set", f"{key}={value}"]
    arguments += ["--run-after-compile", "--no-cache", "--workers", "2"]
    result = CliRunner().invoke(verify_app(), arguments)
    assert result.exit_code == 0, result.output
    scored = [json.loads(line) for line in output.read_text().splitlines()]
    assert [record["reward"] for record in scored] == [1.0, 0.7, 0.0]
    assert scored[0]["metadata"]["host"] == "127.0.0.1"
    assert scored[2]["metadata"]["failure"] == "syntax"
    assert "compile rate: 66.7%" in result.output
    assert list(remote_dir.iterdir()) == []


def test_docs_examples_are_valid_msvc_options() -> None:
    page = (Path(__file__).parents[3] / "docs" / "windows-build-host.md").read_text()
    [config_block] = re.findall(r"```yaml\n(.*?)```", page, flags=re.DOTALL)
    config = VerifierConfig.model_validate(yaml.safe_load(config_block)["verifier"])
    assert config.type == "msvc"
    options = RemoteMSVCOptions.model_validate(config.options())
    assert options.shell == "powershell" and "Enter-VsDevShell" in (options.env_setup or "")
    [command] = [
        block for block in re.findall(r"```bash\n(.*?)```", page, re.DOTALL) if "verify" in block
    ]
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:6] == [
        "halo-forge",
        "verify",
        "completions.jsonl",
        "-o",
        "scored.jsonl",
        "--verifier",
    ]
    settings = parse_key_values(
        [words[i + 1] for i, word in enumerate(words) if word == "--set"], "--set"
    )
    checked = RemoteMSVCOptions.model_validate(settings)
    assert checked.env_setup is not None and checked.env_setup.startswith(
        'call "C:\\Program Files (x86)'
    )
