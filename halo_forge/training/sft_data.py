"""SFT records to token ids with a completion-only loss mask, and the batch collator.

Every record becomes one example: `input_ids = prompt tokens + completion tokens`, and
`labels` is a copy of `input_ids` with every prompt position set to -100 (ignored by the loss),
so the model learns to write answers and never to reproduce the prompt or the system text:
- `{prompt, completion}`: the prompt is formatted with the chat template; the completion is the
  answer followed by the template's end-of-turn marker (or EOS), so the model learns to stop.
  A record whose `metadata.template` names a template (what `halo-forge data prepare` writes)
  is already formatted and is used as it is;
- `{messages}`: everything up to the last assistant turn is the prompt (earlier answers are
  context), the last assistant turn is the completion;
- `{text}`: there is no prompt; the whole text (plus EOS) is learned.
A completion that does not end with a special token (an end-of-turn marker) gets EOS appended.
Prompt and completion are tokenized separately, exactly as a sampler encodes the prompt, so
training and sampling see the same prompt tokens. Examples longer than `max_seq_length` lose
their tail; an example whose prompt alone fills the window has nothing to learn and is dropped.

Batches are padded to their own longest example (dynamic padding), never to `max_seq_length`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from halo_forge.data.records import ChatRecord, PromptCompletionRecord, Record, TextRecord
from halo_forge.data.templates import Template, completion_end, format_messages, format_prompt
from halo_forge.errors import DataError
from halo_forge.models.encoding import encode_continuation, encode_prompt

IGNORE_INDEX = -100  # label value that PyTorch's cross-entropy skips


@dataclass(frozen=True)
class PromptCompletion:
    """The exact text of one training example, split where the loss starts."""

    prompt: str  # formatted, as the model sees it; "" for plain text records
    completion: str  # what the loss is taken on, end-of-turn marker included


@dataclass
class TokenizedSFTData:
    """Tokenized examples plus the counts a training summary reports."""

    examples: list[dict[str, list[int]]]
    truncated: int = 0  # examples cut to max_seq_length
    dropped: int = 0  # examples whose prompt filled the whole window

    @property
    def total_tokens(self) -> int:
        return sum(len(example["input_ids"]) for example in self.examples)

    @property
    def completion_tokens(self) -> int:
        return sum(
            sum(label != IGNORE_INDEX for label in example["labels"]) for example in self.examples
        )


def to_prompt_completion(record: Record, template: Template) -> PromptCompletion:
    """Split one SFT record into formatted prompt text and completion text."""
    if isinstance(record, PromptCompletionRecord) and record.metadata.get("template"):
        return PromptCompletion(record.prompt, record.completion)  # formatted by `data prepare`
    end = completion_end(template)
    if isinstance(record, PromptCompletionRecord):
        return PromptCompletion(
            format_prompt(record.prompt, template=template), record.completion + end
        )
    if isinstance(record, ChatRecord):
        last_answer = max(
            index for index, message in enumerate(record.messages) if message.role == "assistant"
        )
        context = [message.model_dump() for message in record.messages[:last_answer]]
        return PromptCompletion(
            format_messages(context, template, add_generation_prompt=True),
            record.messages[last_answer].content + end,
        )
    if isinstance(record, TextRecord):
        return PromptCompletion("", record.text)
    raise DataError(
        f"{type(record).__name__} is not an SFT record; SFT needs {{prompt, completion}}, "
        "{messages} or {text} records"
    )


def tokenize_example(
    pair: PromptCompletion, tokenizer: PreTrainedTokenizerBase, max_seq_length: int
) -> tuple[dict[str, list[int]], bool] | None:
    """`({input_ids, labels}, truncated)`, or None when no completion token fits the window."""
    prompt_ids = encode_prompt(tokenizer, pair.prompt) if pair.prompt else _start_tokens(tokenizer)
    completion_ids = encode_continuation(tokenizer, pair.completion)
    ends_with_marker = bool(completion_ids) and completion_ids[-1] in tokenizer.all_special_ids
    if not ends_with_marker and tokenizer.eos_token_id is not None:
        completion_ids.append(tokenizer.eos_token_id)  # the model learns to stop
    input_ids = (prompt_ids + completion_ids)[:max_seq_length]
    if len(input_ids) <= len(prompt_ids):
        return None
    labels = [IGNORE_INDEX] * len(prompt_ids) + input_ids[len(prompt_ids) :]
    truncated = len(prompt_ids) + len(completion_ids) > max_seq_length
    return {"input_ids": input_ids, "labels": labels}, truncated


def _start_tokens(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """A plain-text example starts like any sequence: with BOS where the tokenizer uses one."""
    return [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []


def tokenize_records(
    records: Iterable[Record],
    tokenizer: PreTrainedTokenizerBase,
    template: Template,
    max_seq_length: int,
) -> TokenizedSFTData:
    """Tokenize every record (see the module docstring for the rules)."""
    data = TokenizedSFTData(examples=[])
    for record in records:
        tokenized = tokenize_example(
            to_prompt_completion(record, template), tokenizer, max_seq_length
        )
        if tokenized is None:
            data.dropped += 1
            continue
        example, truncated = tokenized
        data.examples.append(example)
        data.truncated += truncated
    return data


class CompletionOnlyCollator:
    """Pads a batch to its longest example: padding gets attention 0 and label -100."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        width = max(len(example["input_ids"]) for example in examples)
        input_ids = torch.full((len(examples), width), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
        attention_mask = torch.zeros((len(examples), width), dtype=torch.long)
        for row, example in enumerate(examples):
            length = len(example["input_ids"])
            input_ids[row, :length] = torch.tensor(example["input_ids"], dtype=torch.long)
            labels[row, :length] = torch.tensor(example["labels"], dtype=torch.long)
            attention_mask[row, :length] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
