"""Sampling with Hugging Face Transformers `generate`: batched, left-padded, with the KV cache.

Prompts are sorted by token length and cut into batches, so a batch holds prompts of similar
length and little compute goes to padding; results come back in the caller's order. Padding is
on the left, so every row's next token follows its prompt directly. Each prompt's `n` samples
come from one batch row each (`num_return_sequences`). A row stops at an end-of-sequence token
(the model's and the tokenizer's) or at a stop string written in its completion, and its text is
cut before that string.
Sampling is exactly temperature + nucleus (top-p): no top-k or repetition penalty from the
model's `generation_config` sneaks in, so the numbers mean the same on every backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from peft import PeftModel
from transformers import (
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    StoppingCriteriaList,
    set_seed,
)

from halo_forge import ui
from halo_forge.errors import ConfigError
from halo_forge.generation.base import Sampler, check_sampling_options, truncate_at_stop
from halo_forge.models.encoding import encode_prompt
from halo_forge.models.loading import load_model


class TransformersSampler(Sampler):
    """A `Sampler` over a model already in memory (RAFT samples from the model it trains).

    `batch_size` is the number of prompts per `generate` call; each brings its `n` rows.
    """

    def __init__(
        self,
        model: PreTrainedModel | PeftModel,
        tokenizer: PreTrainedTokenizerBase,
        batch_size: int = 8,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.tokens_generated = 0  # running total, for throughput reports
        self._end_token_ids = _end_token_ids(model, tokenizer)
        self._pad_token_id = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self._end_token_ids[0]
        )

    @classmethod
    def from_pretrained(
        cls,
        model: str,
        *,
        batch_size: int = 8,
        device: str | None = None,
        dtype: str | None = None,
        trust_remote_code: bool = False,
        attn_implementation: str | None = None,
    ) -> TransformersSampler:
        """Load `model` (id, directory, adapter directory or builtin name) and sample from it."""
        loaded, tokenizer = load_model(
            model,
            device=device,
            dtype=dtype,
            trust_remote_code=trust_remote_code,
            attn_implementation=attn_implementation,
        )
        return cls(loaded, tokenizer, batch_size=batch_size)

    def generate(
        self,
        prompts: Sequence[str],
        n: int = 1,
        temperature: float = 0.7,
        top_p: float = 0.95,
        max_new_tokens: int = 512,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> list[list[str]]:
        """See `Sampler.generate`; the same seed and batch size give the same completions."""
        check_sampling_options(n, temperature, top_p, max_new_tokens)
        if not prompts:
            return []
        encoded = [encode_prompt(self.tokenizer, prompt) for prompt in prompts]
        order = sorted(range(len(prompts)), key=lambda index: len(encoded[index]))
        results: list[list[str]] = [[] for _ in prompts]
        if seed is not None:
            set_seed(seed)
        self.model.eval()
        with ui.progress(transient=True) as bar:
            task = bar.add_task("Generating", total=len(prompts))
            for start in range(0, len(order), self.batch_size):
                indices = order[start : start + self.batch_size]
                texts = self._generate_batch(
                    [encoded[index] for index in indices],
                    n,
                    temperature,
                    top_p,
                    max_new_tokens,
                    stop,
                )
                for position, index in enumerate(indices):
                    results[index] = [
                        truncate_at_stop(text, stop)
                        for text in texts[position * n : (position + 1) * n]
                    ]
                bar.advance(task, len(indices))
        return results

    def _generate_batch(
        self,
        prompt_ids: list[list[int]],
        n: int,
        temperature: float,
        top_p: float,
        max_new_tokens: int,
        stop: Sequence[str] | None,
    ) -> list[str]:
        """Completions of one batch, `n` consecutive rows per prompt."""
        input_ids, attention_mask = self._left_pad(prompt_ids)
        greedy = temperature == 0
        # Greedy decoding gives one answer per prompt; it is computed once and repeated n times.
        rows_per_prompt = 1 if greedy else n
        sampling = (
            {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
            if greedy
            else {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0}
        )
        stopping = (
            StoppingCriteriaList(
                [CompletionStopStrings(self.tokenizer, stop, prompt_width=input_ids.shape[1])]
            )
            if stop
            else None
        )
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention_mask,
                max_new_tokens=max_new_tokens,
                num_return_sequences=rows_per_prompt,
                eos_token_id=self._end_token_ids,
                pad_token_id=self._pad_token_id,
                repetition_penalty=1.0,
                use_cache=True,
                stopping_criteria=stopping,
                **sampling,
            )
        completions = []
        for row in output[:, input_ids.shape[1] :].tolist():
            kept, generated = self._cut_at_end(row)
            completions.append(kept)
            self.tokens_generated += generated
        texts = self.tokenizer.batch_decode(completions, skip_special_tokens=True)
        return [text for text in texts for _ in range(n)] if greedy else texts

    def _left_pad(self, prompt_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(ids) for ids in prompt_ids)
        input_ids = torch.full((len(prompt_ids), width), self._pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(prompt_ids), width), dtype=torch.long)
        for row, ids in enumerate(prompt_ids):
            if ids:
                input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
                attention_mask[row, width - len(ids) :] = 1
        device = self.model.device
        return input_ids.to(device), attention_mask.to(device)

    def _cut_at_end(self, row: list[int]) -> tuple[list[int], int]:
        """The tokens before the row's first end token, and how many tokens it generated.

        The end token itself is dropped even when the tokenizer does not mark it special; a
        padding token also ends a row (`generate` pads rows that stopped at a stop string).
        """
        for position, token in enumerate(row):
            if token in self._end_token_ids or token == self._pad_token_id:
                return row[:position], position + 1
        return row, len(row)


class CompletionStopStrings(StoppingCriteria):
    """Ends a row once a stop string appears in its completion (never counting prompt text).

    Transformers' own `stop_strings` also matches text that starts in the prompt, so a prompt
    ending in a newline would stop `"\n\n"` after the first generated newline. Here only the
    generated tokens are decoded, and only the last few: a stop string is found at the step
    that writes its last character, within as many trailing tokens as it has characters.
    """

    def __init__(
        self, tokenizer: PreTrainedTokenizerBase, stop: Sequence[str], prompt_width: int
    ) -> None:
        self.tokenizer = tokenizer
        self.stop = [marker for marker in stop if marker]
        self.prompt_width = prompt_width
        self.window = max((len(marker) for marker in self.stop), default=0)

    def __call__(
        self, input_ids: torch.LongTensor, scores: object, **kwargs: object
    ) -> torch.BoolTensor:
        start = max(self.prompt_width, input_ids.shape[1] - self.window)
        tails = self.tokenizer.batch_decode(input_ids[:, start:].tolist())
        done = [any(marker in tail for marker in self.stop) for tail in tails]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def _end_token_ids(
    model: PreTrainedModel | PeftModel, tokenizer: PreTrainedTokenizerBase
) -> list[int]:
    """End-of-sequence ids of the model's generation config plus the tokenizer's own.

    Chat tokenizers often end a turn with a token (`<|im_end|>`) that a base model's generation
    config does not list; stopping at both ends the answer where the template says it ends.
    """
    configured = model.generation_config.eos_token_id
    ids = list(configured) if isinstance(configured, (list, tuple)) else [configured]
    ids.append(tokenizer.eos_token_id)
    unique = list(dict.fromkeys(token for token in ids if token is not None))
    if not unique:
        raise ConfigError(
            "neither the model's generation config nor the tokenizer defines an end-of-sequence "
            "token, so generation could never stop early; set tokenizer.eos_token"
        )
    return unique
