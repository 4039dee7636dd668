"""The verifier of each RAFT cycle: built once per distinct config, checked before any model loads.

A run's `verifier:` section and each `cycles:` override that changes it name a verifier; each
distinct one is built once and shared by the cycles that use it. Building checks names,
options and toolchains; asking each verifier about every prompt checks that the prompts carry
what it needs (tests, a known task id). Both fail in seconds, before a tokenizer or model loads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from halo_forge.config.models import RAFTConfig
from halo_forge.data.records import PromptRecord
from halo_forge.raft.strategies import cycle_settings
from halo_forge.verifiers.base import Verifier
from halo_forge.verifiers.registry import build_verifier_from_config
from halo_forge.verifiers.requirements import check_prompt_contexts


def checked_cycle_verifiers(
    config: RAFTConfig,
    passed_in: Verifier | None,
    records: list[PromptRecord],
    *,
    line_numbers: list[int] | None,
    source: str,
) -> dict[int, Verifier]:
    """`cycle_verifiers`, each asked about every prompt; the built ones are released on failure."""
    verifiers = cycle_verifiers(config, passed_in)
    try:
        checked: set[int] = set()
        for cycle, verifier in verifiers.items():
            if id(verifier) in checked:
                continue
            checked.add(id(verifier))
            name = cycle_settings(config, cycle).verifier.type
            label = f"verifier {name!r}" + ("" if cycle == 1 else f" of cycle {cycle}")
            if verifier is passed_in:
                label = f"verifier {type(verifier).__name__}"
            check_prompt_contexts(
                verifier, records, verifier_label=label, source=source, line_numbers=line_numbers
            )
    except BaseException:
        release_verifiers(verifiers.values(), owner_kept=passed_in)
        raise
    return verifiers


def cycle_verifiers(config: RAFTConfig, passed_in: Verifier | None) -> dict[int, Verifier]:
    """The verifier of each cycle: `passed_in` for the run's own config, else built once per
    distinct config (the run's and each `cycles:` override's)."""
    built: dict[str, Verifier] = {}
    by_cycle: dict[int, Verifier] = {}
    try:
        for cycle in range(1, config.raft.num_cycles + 1):
            settings = cycle_settings(config, cycle).verifier
            if passed_in is not None and settings == config.verifier:
                by_cycle[cycle] = passed_in
                continue
            options = {"type": settings.type, **settings.options()}
            key = json.dumps(options, sort_keys=True, default=str)
            if key not in built:
                built[key] = build_verifier_from_config(options)
            by_cycle[cycle] = built[key]
    except BaseException:
        release_verifiers(built.values(), owner_kept=passed_in)
        raise
    return by_cycle


def release_verifiers(verifiers: Iterable[Verifier], *, owner_kept: Verifier | None) -> None:
    """Clean up the verifiers a run built (`owner_kept`, passed in, is its owner's); each stays
    usable and starts its workers again on its next batch."""
    for verifier in {id(verifier): verifier for verifier in verifiers}.values():
        if verifier is not owner_kept:
            verifier.cleanup()
