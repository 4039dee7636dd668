"""Every ```yaml block of the guide is a config the loader accepts, verifier options included.

A snippet states its type on its first line, `# halo-forge config: sft|raft|grpo|benchmark`; it may
be a fragment (any subset of keys), since every key has a default. The `verifier:` sections
(also those of `cycles:`) are checked against the options model of the verifier they name.
"""

from __future__ import annotations

import pytest
import yaml
from docs.markdown_blocks import CodeBlock, all_blocks

from halo_forge.config.loader import CONFIG_TYPES, _NumberAwareLoader, validate_config
from halo_forge.config.models import VerifierConfig
from halo_forge.verifiers.registry import available_verifiers, verifier_config_problems

YAML_BLOCKS = all_blocks("yaml")


def _verifier_sections(config: object) -> list[VerifierConfig]:
    sections = []
    verifier = getattr(config, "verifier", None)
    if verifier is not None:
        sections.append(verifier)
    for override in getattr(config, "cycles", []):
        if override.verifier is not None:
            sections.append(override.verifier)
    return sections


def test_the_guide_has_yaml_snippets() -> None:
    assert len(YAML_BLOCKS) >= 5


@pytest.mark.parametrize("block", YAML_BLOCKS, ids=lambda block: block.where)
def test_yaml_snippet_validates_against_its_config_model(block: CodeBlock) -> None:
    kind = block.config_type
    assert kind in CONFIG_TYPES, (
        f"{block.where}: first line must be `# halo-forge config: TYPE` with TYPE one of "
        f"{sorted(CONFIG_TYPES)}"
    )
    data = yaml.load(block.text, Loader=_NumberAwareLoader) or {}
    config = validate_config(CONFIG_TYPES[kind], data, source=block.where)
    verifiers = available_verifiers()
    for section in _verifier_sections(config):
        assert section.type in verifiers, f"{block.where}: unknown verifier {section.type!r}"
        problems = verifier_config_problems({"type": section.type, **section.options()})
        assert problems == [], f"{block.where}: " + "; ".join(problems)
