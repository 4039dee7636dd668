"""Sampling backends behind one interface: `Sampler.generate(prompts, n, ...) -> list[list[str]]`."""

from halo_forge.generation.base import Sampler, truncate_at_stop
from halo_forge.generation.registry import SAMPLER_BACKENDS, get_sampler

__all__ = ["SAMPLER_BACKENDS", "Sampler", "get_sampler", "truncate_at_stop"]
