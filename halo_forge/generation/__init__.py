"""Sampling backends behind one interface: `Sampler.generate(prompts, n, ...) -> list[list[str]]`."""

from halo_forge.generation.base import SAMPLER_BACKENDS, Sampler, get_sampler, truncate_at_stop

__all__ = ["SAMPLER_BACKENDS", "Sampler", "get_sampler", "truncate_at_stop"]
