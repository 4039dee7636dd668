"""Typed configuration: pydantic models for every pipeline stage, loaded from YAML with CLI overrides.

Precedence, for every key: an option given on the command line > the YAML file > the default.
"""

from halo_forge.config.grpo import GRPOConfig
from halo_forge.config.loader import (
    CONFIG_TYPES,
    detect_config_type,
    load_config,
    load_yaml,
    merge_overrides,
)
from halo_forge.config.models import (
    BenchmarkConfig,
    RAFTConfig,
    SFTConfig,
    VerifierConfig,
)

__all__ = [
    "CONFIG_TYPES",
    "BenchmarkConfig",
    "GRPOConfig",
    "RAFTConfig",
    "SFTConfig",
    "VerifierConfig",
    "detect_config_type",
    "load_config",
    "load_yaml",
    "merge_overrides",
]
