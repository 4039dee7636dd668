"""The completion-only loss mask and dynamic padding, checked token by token on the tiny tokenizer."""

from __future__ import annotations

import pytest
import torch
from transformers import PreTrainedTokenizerBase

from halo_forge.data.records import ChatRecord, PromptCompletionRecord, TextRecord
from halo_forge.models import TINY_MODEL_NAME, load_tokenizer
from halo_forge.training.sft_data import (
    IGNORE_INDEX,
    CompletionOnlyCollator,
    tokenize_records,
)


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerBase:
    return load_tokenizer(TINY_MODEL_NAME)


def _split(tokenizer: PreTrainedTokenizerBase, example: dict[str, list[int]]) -> tuple[str, str]:
    """(text under the mask, text the loss is taken on), decoded with special tokens kept."""
    masked = [
        token
        for token, label in zip(example["input_ids"], example["labels"], strict=True)
        if label == IGNORE_INDEX
    ]
    learned = [label for label in example["labels"] if label != IGNORE_INDEX]
    return tokenizer.decode(masked), tokenizer.decode(learned)


def test_loss_mask_covers_exactly_the_prompt_on_a_hand_checked_example(
    tokenizer: PreTrainedTokenizerBase,
) -> None:
    record = PromptCompletionRecord(prompt="Add one to x.", completion="return x + 1;")

    example = tokenize_records([record], tokenizer, tokenizer, max_seq_length=256).examples[0]

    masked, learned = _split(tokenizer, example)
    assert masked == "<|im_start|>user\nAdd one to x.<|im_end|>\n<|im_start|>assistant\n"
    assert learned == "return x + 1;<|im_end|>"
    # The mask is a prefix: every position after the prompt is learned, as its own token.
    prompt_length = example["labels"].count(IGNORE_INDEX)
    assert example["labels"][:prompt_length] == [IGNORE_INDEX] * prompt_length
    assert example["labels"][prompt_length:] == example["input_ids"][prompt_length:]
    assert example["input_ids"][-1] == tokenizer.convert_tokens_to_ids("<|im_end|>")


def test_system_text_and_earlier_turns_are_never_learned(
    tokenizer: PreTrainedTokenizerBase,
) -> None:
    record = ChatRecord(
        messages=[
            {"role": "system", "content": "You write C."},
            {"role": "user", "content": "Print 1."},
            {"role": "assistant", "content": 'puts("1");'},
            {"role": "user", "content": "Print 2."},
            {"role": "assistant", "content": 'puts("2");'},
        ]
    )

    masked, learned = _split(
        tokenizer, tokenize_records([record], tokenizer, tokenizer, 256).examples[0]
    )

    assert learned == 'puts("2");<|im_end|>'
    assert masked.startswith("<|im_start|>system\nYou write C.<|im_end|>")
    assert 'puts("1");' in masked


def test_plain_text_is_learned_whole_and_ends_with_eos(tokenizer: PreTrainedTokenizerBase) -> None:
    example = tokenize_records([TextRecord(text="int x = 1;")], tokenizer, "raw", 64).examples[0]

    assert IGNORE_INDEX not in example["labels"]
    assert tokenizer.decode(example["labels"]) == "int x = 1;" + tokenizer.eos_token


def test_records_from_data_prepare_are_not_formatted_twice(
    tokenizer: PreTrainedTokenizerBase,
) -> None:
    formatted = "<|im_start|>user\nSquare n.<|im_end|>\n<|im_start|>assistant\n"
    record = PromptCompletionRecord(
        prompt=formatted, completion="n * n<|im_end|>", metadata={"template": "chatml"}
    )

    masked, learned = _split(
        tokenizer, tokenize_records([record], tokenizer, tokenizer, 256).examples[0]
    )

    assert (masked, learned) == (formatted, "n * n<|im_end|>")


def test_long_examples_lose_their_tail_and_prompt_only_windows_are_dropped(
    tokenizer: PreTrainedTokenizerBase,
) -> None:
    short_prompt = PromptCompletionRecord(prompt="Hi.", completion="x " * 200)
    long_prompt = PromptCompletionRecord(prompt="word " * 200, completion="ok")

    data = tokenize_records([short_prompt, long_prompt], tokenizer, tokenizer, max_seq_length=32)

    assert (data.truncated, data.dropped, len(data.examples)) == (1, 1, 1)
    assert len(data.examples[0]["input_ids"]) == 32
    assert data.completion_tokens == 32 - data.examples[0]["labels"].count(IGNORE_INDEX)


def test_batches_are_padded_to_their_own_longest_example() -> None:
    collator = CompletionOnlyCollator(pad_token_id=0)
    batch = collator(
        [
            {"input_ids": [5, 6, 7], "labels": [IGNORE_INDEX, 6, 7]},
            {"input_ids": [5, 6, 7, 8, 9], "labels": [IGNORE_INDEX, IGNORE_INDEX, 7, 8, 9]},
        ]
    )

    assert batch["input_ids"].tolist() == [[5, 6, 7, 0, 0], [5, 6, 7, 8, 9]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert batch["labels"].tolist() == [
        [IGNORE_INDEX, 6, 7, IGNORE_INDEX, IGNORE_INDEX],
        [IGNORE_INDEX, IGNORE_INDEX, 7, 8, 9],
    ]
    assert batch["input_ids"].dtype == torch.long
