"""RLVR prompt records as TRL's GRPO dataset: the text the model sees, and what scores its answer.

Each row holds `prompt`, formatted exactly as RAFT and the benchmarks format it (the model's
chat template, the run's or the record's system prompt), so GRPO samples from the distribution
the benchmark measures; and `verification_context`, the record's `verification_context()` as a
JSON object, which `VerifierReward` hands to the verifier. JSON keeps nested fields (`files`,
`test_cases`) as they are: a dataset column would give every row every key any row had.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from datasets import Dataset
from transformers import PreTrainedTokenizerBase

from halo_forge.data.records import PromptRecord
from halo_forge.data.templates import format_prompt
from halo_forge.training.sft import sft_template
from halo_forge.verifiers.integrations.trl_reward import CONTEXT_COLUMN


def prompt_dataset(
    records: Sequence[PromptRecord],
    tokenizer: PreTrainedTokenizerBase,
    system_prompt: str | None = None,
) -> Dataset:
    """One row per record: the formatted prompt and its verification context (module docstring)."""
    template = sft_template(tokenizer)
    rows = [
        {
            "prompt": format_prompt(record.prompt, system_prompt or record.system_prompt, template),
            CONTEXT_COLUMN: json.dumps(record.verification_context(), sort_keys=True),
        }
        for record in records
    ]
    return Dataset.from_list(rows)
