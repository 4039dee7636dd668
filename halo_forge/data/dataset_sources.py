"""Where the rows of a public dataset come from: the Hugging Face Hub, or a local copy.

Both go through `datasets.load_dataset`, so a local copy (`--from`) is read exactly as the hub
files are: `json` for `.jsonl`/`.json`, `parquet` for `.parquet`. JSON files may be gzipped
(`.jsonl.gz`, `.json.gz`: the official HumanEval file is `HumanEval.jsonl.gz`); `datasets`
decompresses them as it reads. Local copies are streamed (nothing is converted into the
`datasets` cache); hub downloads are cached by `datasets`, or streamed when only the first rows
are wanted.

Without network, `datasets` raises `ConnectionError`, both when the Hub cannot be reached and
when `HF_HUB_OFFLINE=1` is set and the data is not cached; that becomes a `DataError` saying how
to go on: `--from PATH`, or the cache with `HF_HUB_OFFLINE`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from halo_forge.data.jsonl import PathLike
from halo_forge.errors import DataError

LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet", ".jsonl.gz", ".json.gz")


def hub_label(hub_id: str, config: str | None, split: str) -> str:
    """`owner/name (config, split)`, as shown in listings and messages."""
    return f"{hub_id} ({', '.join(part for part in (config, split) if part)})"


def _data_suffix(path: Path) -> str | None:
    """The data format a file name ends with (`.jsonl.gz` as a whole), None for other files."""
    return next((suffix for suffix in LOCAL_SUFFIXES if path.name.endswith(suffix)), None)


def _is_split_file(path: Path, split: str) -> bool:
    """`train.jsonl`, `train-00000-of-00001.parquet`: the split name, then `.` or `-`."""
    return _data_suffix(path) is not None and path.name.split(".")[0].split("-")[0] == split


def _is_parquet(path: Path) -> bool:
    return _data_suffix(path) == ".parquet"


def local_data_files(path: Path, split: str, config: str | None = None) -> list[Path]:
    """The files of a local copy: `path` itself, or the split's files inside a folder.

    A folder may be a hub snapshot (`hf download ... --local-dir DIR`) or an export. The split's
    files are looked for in `DIR/<config>/` (configs in their own folders, as MBPP), `DIR/data/`
    (the hub's default layout), `DIR/`, and last anywhere below `DIR`.
    """
    if path.is_file():
        if _data_suffix(path) is None:
            raise DataError(
                f"{path}: expected a {', '.join(LOCAL_SUFFIXES)} file; rename it to the suffix "
                "of its format"
            )
        return [path]
    if not path.is_dir():
        raise DataError(f"{path}: no such file or folder (--from expects a local copy)")
    roots = [path / config] if config else []
    for root in [*roots, path / "data", path]:
        chosen = sorted(item for item in root.glob("*") if _is_split_file(item, split))
        if chosen:
            break
    else:
        chosen = sorted(item for item in path.rglob("*") if _is_split_file(item, split))
    if not chosen:
        found = sorted(item for item in path.rglob("*") if _data_suffix(item) is not None)
        names = ", ".join(str(item.relative_to(path)) for item in found) or "none"
        raise DataError(
            f"{path}: no {split!r} files among the data files ({names}); name the file itself "
            f"with --from, or pick another split"
        )
    if len({_is_parquet(item) for item in chosen}) > 1:
        raise DataError(f"{path}: the {split!r} files mix parquet and JSON; keep one format")
    return chosen


def offline_advice(label: str, hub_id: str, error: Exception) -> DataError:
    """How to go on without network: a local copy through --from, or the cache."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        cause = "HF_HUB_OFFLINE is set and the dataset is not in the local Hugging Face cache"
        cache = "or unset HF_HUB_OFFLINE where there is network, to download it into the cache"
    else:
        cause = "the Hugging Face Hub cannot be reached"
        cache = "or download it once with network and then set HF_HUB_OFFLINE=1 to use the cache"
    return DataError(
        f"cannot load {label}: {cause} ({error}). Pass a local copy with --from PATH "
        f"(jsonl or json, plain or .gz, or parquet, in the hub's columns, e.g. from `hf download "
        f"{hub_id} --repo-type dataset --local-dir DIR`), {cache}"
    )


def iter_rows(
    hub_id: str,
    config: str | None,
    split: str,
    *,
    source: PathLike | None = None,
    streaming: bool = False,
    dataset_name: str = "",
) -> Iterator[dict[str, Any]]:
    """The rows of a hub dataset, or of its local copy `source` (always streamed).

    `streaming` streams the hub download too, which fetches only the rows that are read.
    """
    import datasets  # heavy import, only when data is actually loaded

    label = hub_label(hub_id, config, split) + (f" for '{dataset_name}'" if dataset_name else "")
    try:
        if source is not None:
            files = local_data_files(Path(source), split, config)
            rows = datasets.load_dataset(
                "parquet" if _is_parquet(files[0]) else "json",
                data_files=[str(item) for item in files],
                split="train",
                streaming=True,
            )
        else:
            rows = datasets.load_dataset(hub_id, config, split=split, streaming=streaming)
        yield from rows
    except ConnectionError as error:
        raise offline_advice(label, hub_id, error) from None
    except datasets.exceptions.DatasetNotFoundError as error:
        raise DataError(
            f"{hub_id} is not on the Hugging Face Hub or needs a login ({error}); check "
            "`hf auth login`, or pass a local copy with --from PATH"
        ) from None
    except (datasets.exceptions.DatasetsError, ValueError) as error:  # unreadable file, bad split
        origin = source if source is not None else label
        raise DataError(f"cannot read {origin}: {error}") from None
