"""Building samplers by name and from a config: the errors that come before any engine starts.

The openai backend's sampling is tested against a real `vllm serve` in
`vllm_backend/test_openai_server.py`; here, what needs no server: a port nobody listens on.
"""

from __future__ import annotations

import sys

import pytest

from halo_forge.config.generation import BackendChoice
from halo_forge.errors import ConfigError
from halo_forge.generation import get_sampler
from halo_forge.generation.registry import sampler_from_config

NOBODY_LISTENS = "http://127.0.0.1:9/v1"  # the discard port


def test_an_unknown_backend_lists_the_three() -> None:
    with pytest.raises(ConfigError, match="allowed: transformers, vllm, openai"):
        get_sampler("tgi", "builtin:tiny-coder")


def test_an_unreachable_server_names_the_fix_by_name_and_from_a_config() -> None:
    with pytest.raises(
        ConfigError, match=r"cannot reach .* start it .* generation.openai.base_url"
    ):
        get_sampler("openai", "", base_url=NOBODY_LISTENS)
    choice = BackendChoice.model_validate(
        {"backend": "openai", "openai": {"base_url": NOBODY_LISTENS}}
    )
    with pytest.raises(ConfigError, match="cannot reach"):
        sampler_from_config(choice, "builtin:tiny-coder", batch_size=1)


def test_naming_the_backends_loads_no_torch() -> None:
    import subprocess

    probe = "import sys, halo_forge.generation, halo_forge.config.generation; print('torch' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "False"
