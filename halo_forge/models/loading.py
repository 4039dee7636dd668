"""Load a causal LM and its tokenizer from a Hugging Face id, a local directory or a builtin name.

A directory may hold a full model or a PEFT adapter. For an adapter, the base model is the one
named in its `adapter_config.json` and nothing else: a separate "base model" option could
disagree with the adapter and silently load weights it was never trained on.

Every name is checked before a library sees it, because the libraries' own errors point the
wrong way: a missing directory reaches the hub as an invalid repo id, a training run folder
fails as a tokenizer asking for sentencepiece, and a hub id without network retries for about
a minute. Here a name that looks like a path must be a model directory (a run folder gets the
model inside it suggested), and a hub id that is not in the local cache is probed once, bounded
by `HF_HUB_ETAG_TIMEOUT` seconds, or refused at once under `HF_HUB_OFFLINE=1`.

Device and dtype are chosen automatically: the first CUDA device (ROCm builds of torch report as
CUDA too) with bf16 where it is supported, Apple MPS, else the CPU in fp32. `device` and `dtype`
override either choice.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from huggingface_hub import (
    constants,
    get_hf_file_metadata,
    hf_hub_url,
    is_offline_mode,
    try_to_load_from_cache,
)
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
)
from huggingface_hub.utils import validate_repo_id
from peft import PeftModel
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.trainer_utils import get_last_checkpoint

from halo_forge.errors import ConfigError, ModelError
from halo_forge.models.device import resolve_device, resolve_dtype
from halo_forge.models.tiny import (
    TINY_MODEL_NAME,
    ensure_tiny_model,
    has_builtin_base,
    is_tiny_model_dir,
)

ADAPTER_CONFIG_FILE = "adapter_config.json"
MODEL_CONFIG_FILE = "config.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
#: Where `sft train` puts its finished model inside the output directory.
FINAL_MODEL_DIR = "final_model"
#: Where `raft train` puts each cycle's finished model inside the output directory.
CYCLE_FINAL_PATTERN = re.compile(r"cycle_(\d+)_final")
MODEL_NAME_HELP = (
    "pass a model directory (a saved model, an adapter, `sft train`'s OUTPUT/final_model or "
    "`raft train`'s OUTPUT/cycle_N_final), a Hugging Face id such as Qwen/Qwen2.5-Coder-0.5B, "
    f"or {TINY_MODEL_NAME}"
)


@dataclass(frozen=True)
class ModelSource:
    """What a model name resolves to: the base weights to load and, optionally, an adapter on top."""

    name: str  # as the user gave it
    # Hugging Face id or absolute local directory to load the full base model from; adapters
    # record it as their base, so plain `AutoPeftModelForCausalLM` opens them.
    base: str
    # The base as halo-forge names it: `builtin:tiny-coder` for the tiny model (wherever its
    # cache lies), else the same as `base`.
    base_name: str
    adapter_dir: Path | None  # PEFT adapter directory, when `name` is one


def is_adapter_dir(path: str | Path) -> bool:
    """Whether `path` is a directory holding a PEFT adapter (not a full model)."""
    return (Path(path) / ADAPTER_CONFIG_FILE).is_file()


def adapter_base_name(adapter_dir: str | Path) -> str:
    """The base model an adapter was trained on, as recorded in its `adapter_config.json`.

    A recorded tiny-model directory is named `builtin:tiny-coder`, so the adapter loads on a
    machine whose cache lies elsewhere, or after the cache was deleted (it is rebuilt).
    """
    config_path = Path(adapter_dir) / ADAPTER_CONFIG_FILE
    try:
        base = json.loads(config_path.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, json.JSONDecodeError) as error:
        raise ModelError(f"{config_path}: cannot read the adapter config ({error})") from None
    if not base:
        raise ModelError(
            f"{config_path} names no base model (base_model_name_or_path is empty); "
            "set it to the Hugging Face id or directory the adapter was trained on"
        )
    if has_builtin_base(adapter_dir) or is_tiny_model_dir(base):
        return TINY_MODEL_NAME
    return str(base)


def resolve_model_source(name: str) -> ModelSource:
    """Turn a model name (id, directory, adapter directory or builtin name) into what to load."""
    local = local_model_dir(name)
    if local is not None and is_adapter_dir(local):
        base_name = adapter_base_name(local)
        if is_adapter_dir(base_name):
            raise ModelError(
                f"adapter {name} names another adapter ({base_name}) as its base; "
                "merge that adapter first (halo_forge.models.merge_adapter) and point to the merged model"
            )
        try:
            base = _resolve_base(base_name)
        except ModelError as error:
            raise ModelError(f"adapter {name} was trained on {base_name}: {error}") from None
        return ModelSource(name, base, base_name, local)
    # A local directory is recorded absolute, so adapters trained on it load from any directory.
    base_name = str(local.resolve()) if local is not None else name
    return ModelSource(name, _resolve_base(base_name), base_name, None)


def local_model_dir(name: str) -> Path | None:
    """The model directory `name` names, or None when it is a hub id or builtin name.

    A name is a path when it exists, starts with `.`, `/` or `~`, or holds a path separator
    where no hub id (`org/name`) would or below an existing directory (`models/sft` with a
    local `models/`). Such a path must be a directory with a `config.json`
    (full model) or an `adapter_config.json` (adapter); for a training run folder the error
    names the model inside it.
    """
    path = Path(name).expanduser()
    if not (path.exists() or name.startswith((".", "/", "~")) or _is_path_not_hub_id(name)):
        return None
    if not path.exists():
        inside = _models_in_run_folder(path.parent)
        hint = f"did you mean {_either(inside)}? " if inside else ""
        raise ModelError(f"{name}: no such model directory; {hint}{MODEL_NAME_HELP}")
    if not path.is_dir():
        raise ModelError(f"{name} is a file, not a model directory; {MODEL_NAME_HELP}")
    if (path / MODEL_CONFIG_FILE).is_file() or is_adapter_dir(path):
        return path
    inside = _models_in_run_folder(path)
    if inside:
        raise ModelError(
            f"{name} is a training run folder, not a model; pass the model it holds: "
            f"{_either(inside)}"
        )
    raise ModelError(
        f"{name} holds no model (neither {MODEL_CONFIG_FILE} nor {ADAPTER_CONFIG_FILE}); "
        f"{MODEL_NAME_HELP}"
    )


def _is_path_not_hub_id(name: str) -> bool:
    if os.sep not in name and (os.altsep is None or os.altsep not in name):
        return False
    if Path(name).expanduser().parent.is_dir():
        return True
    try:
        validate_repo_id(name)
    except HFValidationError:
        return True
    return False


def _models_in_run_folder(directory: Path) -> list[Path]:
    """The models a `sft train` or `raft train` output folder holds, to suggest in an error.

    `final_model/` and the last `cycle_N_final/` are finished models; a run stopped before
    either was written offers its newest `checkpoint-N/` instead.
    """
    if not directory.is_dir():
        return []
    found = [directory / FINAL_MODEL_DIR] if (directory / FINAL_MODEL_DIR).is_dir() else []
    cycles = [
        (int(match.group(1)), child)
        for child in directory.iterdir()
        if (match := CYCLE_FINAL_PATTERN.fullmatch(child.name)) and child.is_dir()
    ]
    if cycles:
        found.append(max(cycles)[1])
    if not found and (checkpoint := get_last_checkpoint(str(directory))) is not None:
        found.append(Path(checkpoint))
    return found


def _either(paths: list[Path]) -> str:
    return " or ".join(str(path) for path in paths)


def _resolve_base(name: str) -> str:
    if name == TINY_MODEL_NAME:
        return str(ensure_tiny_model())
    if name.startswith("builtin:"):
        raise ModelError(f"unknown builtin model {name!r}; the builtin model is {TINY_MODEL_NAME}")
    local = local_model_dir(name)
    if local is not None:
        return str(local)
    ensure_hub_model_available(name)
    return name


def ensure_hub_model_available(repo_id: str) -> None:
    """Fail in seconds, with the fix, when hub model `repo_id` is neither cached nor reachable.

    Without this check the hub client retries each missing file with backoff, so a machine
    without network waits about a minute for a message about internet connections. A cached
    model is used as it is; otherwise one metadata request, bounded by `HF_HUB_ETAG_TIMEOUT`
    seconds and not retried, tells a reachable hub from an unreachable one.
    """
    if any(
        isinstance(try_to_load_from_cache(repo_id, file), str)
        for file in (MODEL_CONFIG_FILE, ADAPTER_CONFIG_FILE)
    ):
        return
    not_local = f"there is no local directory {repo_id!r} either"
    if is_offline_mode():
        switch = "HF_HUB_OFFLINE" if os.environ.get("HF_HUB_OFFLINE") else "TRANSFORMERS_OFFLINE"
        raise ModelError(
            f"model {repo_id!r} is not in the Hugging Face cache ({constants.HF_HUB_CACHE}) and "
            f"{switch}=1 is set, so it cannot be downloaded ({not_local}); download it first "
            f"where there is network (`hf download {repo_id}`) or pass a local model directory"
        )
    try:
        get_hf_file_metadata(
            hf_hub_url(repo_id, MODEL_CONFIG_FILE), timeout=constants.HF_HUB_ETAG_TIMEOUT
        )
    except GatedRepoError:
        raise ModelError(
            f"model {repo_id!r} is gated on the Hugging Face hub; accept its terms on "
            f"https://huggingface.co/{repo_id} and log in (`hf auth login`), or pass a local "
            "model directory"
        ) from None
    except RepositoryNotFoundError:
        raise ModelError(
            f"no model {repo_id!r} on the Hugging Face hub ({not_local}); check the id (private "
            f"models need `hf auth login`) or {MODEL_NAME_HELP}"
        ) from None
    except RemoteEntryNotFoundError:
        return  # the repository exists without a config.json; the loader says what it lacks
    except (HfHubHTTPError, httpx2.TransportError) as error:
        raise ModelError(_hub_unreachable(repo_id, not_local, error)) from None


def _hub_unreachable(repo_id: str, not_local: str, error: Exception) -> str:
    return (
        f"cannot download model {repo_id!r}: the Hugging Face hub ({constants.ENDPOINT}) cannot "
        f"be reached ({error}) and {not_local}; check the network or proxy, download it first "
        f"(`hf download {repo_id}`) or pass a local model directory"
    )


def load_tokenizer(name: str, trust_remote_code: bool = False) -> PreTrainedTokenizerBase:
    """The tokenizer for `name`: an adapter directory's own copy if it has one, else its base's.

    A tokenizer without a padding token gets its end-of-sequence token as padding (Llama-style
    tokenizers ship without one); attention masks keep padding out of every computation.
    """
    source = resolve_model_source(name)
    has_own_tokenizer = (
        source.adapter_dir is not None and (source.adapter_dir / TOKENIZER_CONFIG_FILE).is_file()
    )
    location = str(source.adapter_dir) if has_own_tokenizer else source.base
    try:
        tokenizer = AutoTokenizer.from_pretrained(location, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        raise ModelError(_load_failure_message("tokenizer", location, error)) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(
    name: str,
    *,
    device: str | None = None,
    dtype: str | None = None,
    trust_remote_code: bool = False,
    attn_implementation: str | None = None,
    adapter_trainable: bool = False,
) -> tuple[PreTrainedModel | PeftModel, PreTrainedTokenizerBase]:
    """Load model and tokenizer, on the chosen device and dtype, in evaluation mode.

    For an adapter directory the result is a `PeftModel` over the base named in its config;
    `adapter_trainable=True` keeps the adapter weights trainable so training continues them.
    """
    source = resolve_model_source(name)
    target_device = resolve_device(device)
    target_dtype = resolve_dtype(dtype, target_device)
    options: dict[str, object] = {"dtype": target_dtype, "trust_remote_code": trust_remote_code}
    if attn_implementation is not None:
        options["attn_implementation"] = attn_implementation
    try:
        model = AutoModelForCausalLM.from_pretrained(source.base, **options)
    except (OSError, ValueError, ImportError) as error:
        raise ModelError(_load_failure_message("model", source.base, error)) from None
    # Adapters trained on this model record where it lies here, which plain peft can open.
    model.name_or_path = source.base
    if source.adapter_dir is not None:
        try:
            with peft_deprecations_silenced():
                model = PeftModel.from_pretrained(
                    model, str(source.adapter_dir), is_trainable=adapter_trainable
                )
        except (OSError, ValueError, RuntimeError) as error:
            raise ModelError(
                f"cannot apply adapter {source.adapter_dir} to its base {source.base_name}: {error}"
            ) from None
        # An adapter made on another machine recorded that machine's path; saved again, it
        # records this one's.
        for adapter_config in model.peft_config.values():
            adapter_config.base_model_name_or_path = source.base
    model.to(target_device)
    model.eval()
    return model, load_tokenizer(name, trust_remote_code=trust_remote_code)


def _load_failure_message(what: str, location: str, error: Exception) -> str:
    return (
        f"cannot load the {what} from {location!r}: {error}. Pass a Hugging Face model id, a local "
        f"model or adapter directory, or {TINY_MODEL_NAME}; offline, download the model first or "
        "point to a local copy"
    )


@contextmanager
def peft_deprecations_silenced() -> Iterator[None]:
    """Wrap a model in peft without its read of a property that transformers 5 deprecates.

    peft reads `model.is_gradient_checkpointing` (now `is_activation_checkpointing`), so every
    adapter it builds or loads printed a FutureWarning the user can do nothing about. Only that
    message is silenced, and only for the block.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
        )
        yield


def start_model(*candidates: str | None) -> str:
    """The model a training run starts from: the first of `candidates` that is given (the
    caller's checkpoint and model, then the config's), or a ConfigError that says how to give one."""
    for candidate in candidates:
        if candidate:
            return str(candidate)
    raise ConfigError(
        "no model to start from: pass sft_checkpoint=... (--checkpoint) or model=... "
        "(--model), or set sft_checkpoint/model in the config"
    )
