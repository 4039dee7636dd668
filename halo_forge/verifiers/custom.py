"""Verifiers built from parts: any command line (`SubprocessVerifier`), or a chain of verifiers.

For logic of your own, subclass `Verifier` and implement `verify(code, **context)`; these two
cover the common cases without code:

- `SubprocessVerifier(["ruff", "check", "{file}"])` writes the program to a file in a sandbox
  workspace and runs the command there (an argv list, or a string split like a shell would
  but never run by one). Success is exit status 0, or `success_pattern` found in the output.
  The command sees the sandbox's file system: read-only, with a private /tmp, so the tool and
  any script it reads must live outside /tmp.
- `ChainedVerifier([GCCVerifier(), SubprocessVerifier(...)])` runs stages in order and stops
  at the first that fails; passing more stages never scores less than passing fewer.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.build.testcases import describe_failure
from halo_forge.verifiers.registry import (
    build_verifier_from_config,
    register_verifier,
    validate_options,
    verifier_config_problems,
)
from halo_forge.verifiers.sandbox import SANDBOX_PATH, Sandbox, SandboxLimits
from halo_forge.verifiers.sandbox.options import SandboxOptions

OUTPUT_EXCERPT_CHARS = 2000


class SubprocessOptions(SandboxOptions):
    """Options of `SubprocessVerifier` (with the sandbox's `expose_paths` and `disk_limit_mb`:
    a command that runs a script of the project needs that script's path exposed)."""

    command: list[str] | str = Field(
        description="argv list or command template; '{file}' is replaced by the program's path "
        "(appended at the end when absent). Never run through a shell."
    )
    success_pattern: str | None = Field(
        None,
        description="Regular expression that marks success in stdout/stderr (^ and $ match "
        "at line ends); without it, exit status 0 is success.",
    )
    file_extension: str = Field(".txt", description="Extension of the program file, e.g. .py.")
    timeout: float = Field(30.0, gt=0, description="Seconds allowed for the command.")
    memory_limit_mb: int = Field(1024, ge=16, description="Memory limit of the command, in MiB.")
    languages: list[str] = Field(
        default_factory=list, description="Fence tags to extract code from (empty: any)."
    )
    max_workers: int | None = Field(None, ge=1, description="Parallel verifications.")

    @field_validator("file_extension")
    @classmethod
    def _starts_with_dot(cls, value: str) -> str:
        if not value.startswith("."):
            raise ValueError(f"must start with a dot, e.g. '.{value}'")
        return value

    @field_validator("success_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"not a valid regular expression ({error})") from None
        return value


@register_verifier("subprocess", options=SubprocessOptions)
class SubprocessVerifier(Verifier):
    """Run a command of your choice on the program file, in the sandbox."""

    def __init__(
        self,
        command: list[str] | str,
        success_pattern: str | None = None,
        file_extension: str | None = None,
        timeout: float | None = None,
        **options: Any,
    ) -> None:
        given = {
            "command": command,
            "success_pattern": success_pattern,
            "file_extension": file_extension,
            "timeout": timeout,
            **options,
        }
        self.options = validate_options(
            SubprocessOptions,
            {key: value for key, value in given.items() if value is not None},
            owner="SubprocessVerifier",
        )
        # Results depend on a tool whose version the cache cannot see, so they are not cached.
        super().__init__(max_workers=self.options.max_workers, use_cache=False)
        self.languages = tuple(language.lower() for language in self.options.languages)
        self.argv_template = self._argv_template(self.options.command)
        self.success_pattern = (
            re.compile(self.options.success_pattern, re.MULTILINE)
            if self.options.success_pattern
            else None
        )
        self.file_name = "solution" + self.options.file_extension
        self._sandbox = Sandbox(
            SandboxLimits(
                wall_timeout_s=self.options.timeout,
                memory_limit_mb=self.options.memory_limit_mb,
                disk_limit_mb=self.options.disk_limit_mb,
            ),
            readable_paths=self.options.expose_paths,
        )

    @staticmethod
    def _argv_template(command: list[str] | str) -> list[str]:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not argv:
            raise VerifierError("SubprocessVerifier: command is empty; give an argv list")
        executable = shutil.which(argv[0])
        if executable is None:
            raise VerifierError(
                f"SubprocessVerifier: command {argv[0]!r} not found on PATH; install it or "
                "give its absolute path"
            )
        argv[0] = executable
        if not any("{file}" in part for part in argv):
            argv.append("{file}")
        return argv

    def verify(self, code: str, **context: Any) -> VerifyResult:
        """Write the extracted program to a file and run the command on it."""
        program = self.extract_code(code)
        with self._sandbox.workspace() as workspace:
            path = workspace.write(self.file_name, program)
            argv = [part.replace("{file}", str(path)) for part in self.argv_template]
            tool_dir = os.path.dirname(self.argv_template[0])
            result = workspace.run(argv, env={"PATH": f"{tool_dir}:{SANDBOX_PATH}"})
        output = result.stdout + result.stderr
        if result.timed_out or result.output_truncated:
            success = False
        elif self.success_pattern is not None:
            success = self.success_pattern.search(output) is not None
        else:
            success = result.ok
        details = "command succeeded" if success else f"command failed: {describe_failure(result)}"
        return VerifyResult(
            success=success,
            reward=1.0 if success else 0.0,
            details=details,
            error=None if success else output[-OUTPUT_EXCERPT_CHARS:] or None,
            metadata={
                "command": Path(self.argv_template[0]).name,
                "returncode": result.returncode,
                "timed_out": result.timed_out,
            },
            stage="run",
            compiled=None,  # what the command checks is unknown here
        )


class ChainedVerifier(Verifier):
    """Run verifiers in order; stop at the first stage that fails.

    The result is the failing stage's (or the last stage's) with its reward raised to the best
    reward of the stages run, so passing the compile and failing the tests never scores less
    than failing the compile. `metadata["stages"]` lists each stage's outcome.
    Stages extract code with the first stage's languages; give stages that accept the same.
    """

    def __init__(self, verifiers: list[Verifier], max_workers: int | None = None) -> None:
        if not verifiers:
            raise VerifierError("ChainedVerifier needs at least one verifier")
        self.stages = list(verifiers)
        super().__init__(max_workers=max_workers, use_cache=all(v.use_cache for v in verifiers))
        self.languages = self.stages[0].languages
        stage_keys = [stage.context_keys for stage in self.stages]
        self.context_keys = (
            None
            if any(keys is None for keys in stage_keys)
            else tuple(dict.fromkeys(key for keys in stage_keys for key in keys or ()))
        )

    def extract_code(self, text: str) -> str:
        return self.stages[0].extract_code(text)

    def verify(self, code: str, **context: Any) -> VerifyResult:
        outcomes: list[dict[str, Any]] = []
        best_reward = 0.0
        compiled: bool | None = None
        result = VerifyResult(success=False, reward=0.0)
        for index, stage in enumerate(self.stages):
            result = stage.verify(code, **context)
            best_reward = max(best_reward, result.reward)
            if result.compiled is not None:
                compiled = result.compiled
            outcomes.append(
                {
                    "verifier": type(stage).__name__,
                    "success": result.success,
                    "reward": result.reward,
                    "details": result.details,
                }
            )
            if not result.success:
                result.metadata["failed_stage"] = index
                break
        result.reward = best_reward
        result.compiled = compiled
        result.metadata["stages"] = outcomes
        return result

    def missing_context(self, context: dict[str, Any]) -> str | None:
        """What the first stage that needs more than the context holds is missing: every
        stage sees the same context, and a stage that cannot score stops the chain there."""
        for stage in self.stages:
            reason = stage.missing_context(context)
            if reason is not None:
                return reason
        return None

    def cache_fingerprint(self) -> dict[str, Any] | None:
        fingerprints = [stage.cache_fingerprint() for stage in self.stages]
        if any(fingerprint is None for fingerprint in fingerprints):
            return None
        return {"verifier": "chain", "stages": fingerprints}

    def prepare(self, programs: list[str]) -> None:
        for stage in self.stages:
            stage.prepare(programs)

    def cleanup(self) -> None:
        for stage in self.stages:
            stage.cleanup()


class ChainOptions(BaseModel):
    """Options of the `chain` verifier."""

    model_config = ConfigDict(extra="forbid")

    stages: list[dict[str, Any]] = Field(
        min_length=1, description="Verifier configs ({type: ..., options...}) run in order."
    )
    max_workers: int | None = Field(None, ge=1, description="Parallel verifications.")

    @field_validator("stages")
    @classmethod
    def _stages_are_verifiers(cls, stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each stage's name and options checked here, so a config check reaches inside."""
        problems = [
            f"stages[{index}]: {problem}"
            for index, stage in enumerate(stages)
            for problem in verifier_config_problems(stage)
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return stages


@register_verifier("chain", options=ChainOptions)
def build_chain(stages: list[dict[str, Any]], max_workers: int | None = None) -> ChainedVerifier:
    """Run verifiers in order and stop at the first failing stage."""
    return ChainedVerifier(
        [build_verifier_from_config(stage) for stage in stages], max_workers=max_workers
    )
