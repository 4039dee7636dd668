"""AutoVerifier (`auto`): verify each sample with the verifier of its language.

One RAFT run can then train on a mixed prompt file (C, C++, Python, Rust, Go, C#). A sample's
language is its context key `language` (a prompt record's `language` field), else the tag of
the first fenced block of the answer in a configured language (```rust, ```go, ```cs, ...),
else the option `default_language`. Names are normalised (`c++` -> cpp, `py` -> python,
`c#`/`cs` -> csharp, `golang` -> go, `rs` -> rust).

Option `verifiers` maps a language to a verifier config (`{type: gcc, language: c}`, as in a
YAML `verifier:` section); each entry replaces that language's default (DEFAULT_VERIFIERS),
and a new key adds a language. Configs are checked when the AutoVerifier is built, but each
verifier is built on first use, so a toolchain is needed only for the languages that occur.
A sample whose language has no verifier scores 0.0, with details that say why (or, with
`on_unknown_language: raise`, stops the batch with a VerifierError).

`verify_batch` groups a batch by language and calls each verifier's `verify_batch` once, so
parallelism, deduplication and caching stay those of each verifier. The language decided here
reaches that verifier as the context's `language` (canonical name), so `c: {type: clang}`
compiles C whether the record or only the fence tag said so. Every result's metadata carries
`language`.

The verifiers keep their own defaults: a compile verifier runs each program against the
record's `test_cases`, `expected_output`, `stdin` or `tests` when it has any, so a record's
tests decide its success here as they would with that verifier alone.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import RewardLevel, Verifier, VerifyResult
from halo_forge.verifiers.batch import sample_contexts
from halo_forge.verifiers.extract import fenced_blocks
from halo_forge.verifiers.language_names import UNKNOWN_LANGUAGE, normalise_language
from halo_forge.verifiers.registry import (
    available_verifiers,
    build_verifier_from_config,
    register_verifier,
    validate_options,
)

DEFAULT_VERIFIERS: dict[str, dict[str, Any]] = {
    "c": {"type": "gcc", "language": "c"},
    "cpp": {"type": "gcc", "language": "c++"},
    "python": {"type": "python"},
    "rust": {"type": "rust"},
    "go": {"type": "go"},
    "csharp": {"type": "csharp"},
}


class AutoOptions(BaseModel):
    """Options of the auto verifier (each has a description for `--help`)."""

    model_config = ConfigDict(extra="forbid")

    verifiers: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Language -> verifier config ({type: ..., options}); replaces that "
        "language's default (c: gcc, cpp: gcc, python: python, rust, go, csharp).",
    )
    default_language: str | None = Field(
        None, description="Language of samples with no `language` and no tagged code block."
    )
    on_unknown_language: Literal["score_zero", "raise"] = Field(
        "score_zero",
        description="A sample in a language without a verifier: score 0.0, or raise.",
    )


@register_verifier("auto", options=AutoOptions)
class AutoVerifier(Verifier):
    """Pick the verifier by each sample's language (record `language` or code fence tag)."""

    def __init__(self, **options: Any) -> None:
        self.options = validate_options(AutoOptions, options, owner="AutoVerifier")
        super().__init__(max_workers=1, use_cache=False)
        self.configs = dict(DEFAULT_VERIFIERS)
        for language, config in self.options.verifiers.items():
            self.configs[normalise_language(language)] = _checked(language, config)
        default = self.options.default_language
        self.default_language = normalise_language(default) if default else None
        self._verifiers: dict[str, Verifier] = {}
        self._lock = threading.Lock()

    def language_of(self, code: str, context: dict[str, Any]) -> str:
        """The sample's language: context `language`, a fence tag in a configured language,
        `default_language`, else "unknown"."""
        declared = context.get("language")
        if isinstance(declared, str) and declared.strip():
            return normalise_language(declared)
        for block in fenced_blocks(code):
            if block.language and normalise_language(block.language) in self.configs:
                return normalise_language(block.language)
        return self.default_language or UNKNOWN_LANGUAGE

    def verifier_for(self, language: str) -> Verifier:
        """The verifier of a configured language, built on first use."""
        with self._lock:
            if language not in self._verifiers:
                self._verifiers[language] = build_verifier_from_config(self.configs[language])
            return self._verifiers[language]

    def missing_context(self, context: dict[str, Any]) -> str | None:
        """What the verifier of the sample's declared language needs. A sample without a
        declared language is judged by its answer's fence tag, unknown before generation."""
        declared = context.get("language")
        if not (isinstance(declared, str) and declared.strip()):
            return None
        language = normalise_language(declared)
        if language not in self.configs:
            return (
                f"its language {language!r} has no verifier (configured: "
                f"{', '.join(sorted(self.configs))}); add it under the auto verifier's `verifiers`"
            )
        return self.verifier_for(language).missing_context(_with_language(context, language))

    def verify(self, code: str, **context: Any) -> VerifyResult:
        language = self.language_of(code, context)
        if language not in self.configs:
            return self._unknown(language)
        result = self.verifier_for(language).verify(code, **_with_language(context, language))
        result.metadata["language"] = language
        return result

    def verify_batch(
        self,
        codes: list[str],
        prompts: list[str] | None = None,
        task_ids: list[Any] | None = None,
        contexts: list[dict[str, Any]] | None = None,
    ) -> list[VerifyResult]:
        """One `verify_batch` per language present; results in input order."""
        merged = sample_contexts(len(codes), prompts, task_ids, contexts)
        by_language: dict[str, list[int]] = defaultdict(list)
        for index, (code, context) in enumerate(zip(codes, merged, strict=True)):
            by_language[self.language_of(code, context)].append(index)
        results: list[VerifyResult | None] = [None] * len(codes)
        for language, indices in by_language.items():
            if language not in self.configs:
                for index in indices:
                    results[index] = self._unknown(language)
                continue
            verified = self.verifier_for(language).verify_batch(
                [codes[index] for index in indices],
                contexts=[_with_language(merged[index], language) for index in indices],
            )
            for index, result in zip(indices, verified, strict=True):
                result.metadata["language"] = language
                results[index] = result
        return [result for result in results if result is not None]

    def _unknown(self, language: str) -> VerifyResult:
        configured = ", ".join(sorted(self.configs))
        reason = (
            "no language given and no code block tagged with one"
            if language == UNKNOWN_LANGUAGE
            else f"no verifier configured for language {language!r}"
        )
        fix = (
            f"configured languages: {configured}; set the record's `language`, tag the code "
            "block, or add the language under the auto verifier's `verifiers` option"
        )
        if self.options.on_unknown_language == "raise":
            raise VerifierError(f"{reason}; {fix}")
        return VerifyResult(
            success=False,
            reward=float(RewardLevel.FAILURE),
            details=f"{reason} ({fix})",
            error=reason,
            metadata={"language": language, "stage": "dispatch"},
            stage="dispatch",
            compiled=None,  # no verifier looked at the program
        )

    def cleanup(self) -> None:
        with self._lock:
            verifiers, self._verifiers = list(self._verifiers.values()), {}
        for verifier in verifiers:
            verifier.cleanup()


def _checked(language: str, config: dict[str, Any]) -> dict[str, Any]:
    """`config` if it names a registered verifier with valid options; else VerifierError."""
    options = dict(config)
    name = options.pop("type", None)
    verifiers = available_verifiers()
    if not isinstance(name, str) or name not in verifiers:
        raise VerifierError(
            f"auto verifier: verifiers.{language} needs a 'type' naming a verifier, got "
            f"{name!r}; available verifiers: {', '.join(verifiers)}"
        )
    validate_options(verifiers[name].options, options, owner=f"auto verifier: verifiers.{language}")
    return dict(config)


def _with_language(context: dict[str, Any], language: str) -> dict[str, Any]:
    """The context a language's verifier gets: `language` is the one decided here, so the
    verifier (a C/C++ compiler choosing its language) agrees with the choice of verifier."""
    return {**context, "language": language}
