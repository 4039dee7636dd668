"""Text to token ids, one rule for training and sampling.

A model must see the same prompt tokens when it is trained as when it is sampled, so SFT and
every sampler encode prompts here. Chat-formatted text already carries the template's special
tokens, so no special tokens are added, with one exception: a tokenizer that defines a
beginning-of-sequence token (Llama-style) gets it in front of a prompt that lacks it, which is
where its models expect it.
"""

from __future__ import annotations

from transformers import PreTrainedTokenizerBase


def encode_prompt(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    """Token ids of a formatted prompt: the start of a sequence."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    bos = tokenizer.bos_token_id
    if bos is not None and (not ids or ids[0] != bos):
        ids = [bos, *ids]
    return ids


def encode_continuation(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    """Token ids of text that follows a prompt (an SFT completion): no special tokens added."""
    return tokenizer(text, add_special_tokens=False)["input_ids"]
