"""Language names: one canonical spelling per language, so every report counts a language once.

Records, fence tags and verifiers spell languages differently (`C++`, `cpp`, `cc`; `py`,
`python3`). RAFT stats, benchmark results and the auto verifier all report the canonical name.
"""

from __future__ import annotations

from halo_forge.verifiers.result import VerifyResult

#: Spellings of language names (context values and fence tags) -> the canonical name.
LANGUAGE_ALIASES = {
    "c": "c",
    "h": "c",
    "cpp": "cpp",
    "c++": "cpp",
    "cc": "cpp",
    "cxx": "cpp",
    "hpp": "cpp",
    "python": "python",
    "py": "python",
    "python3": "python",
    "rust": "rust",
    "rs": "rust",
    "go": "go",
    "golang": "go",
    "csharp": "csharp",
    "cs": "csharp",
    "c#": "csharp",
    "c-sharp": "csharp",
}
UNKNOWN_LANGUAGE = "unknown"


def normalise_language(name: str) -> str:
    """The canonical name of a language spelling (`C++` -> cpp); other names lower-cased."""
    lowered = name.strip().lower()
    return LANGUAGE_ALIASES.get(lowered, lowered)


def reported_language(declared: str | None, result: VerifyResult) -> str:
    """A sample's language in reports: the prompt record's, else the one the verifier recorded
    (`metadata["language"]`), else "unknown"; always the canonical name."""
    name = declared or result.metadata.get("language")
    return normalise_language(name) if isinstance(name, str) and name.strip() else UNKNOWN_LANGUAGE
