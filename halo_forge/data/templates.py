"""Chat formatting: the exact text a model sees before it writes its answer.

SFT, RAFT and benchmark must format prompts identically, or a model is trained on one layout
and sampled with another. They all call `format_prompt` (or `format_messages` for whole
conversations) and end SFT completions with `completion_end`.

`template` is either a tokenizer that carries its own chat template (preferred whenever a model
is at hand: it is what the model was trained with) or a built-in name:
- `chatml` / `qwen`: `<|im_start|>role\\n...<|im_end|>`. The Qwen tokenizers' own template adds
  a default system prompt when none is given; the built-in one never does.
- `llama3`: `<|start_header_id|>role<|end_header_id|>\\n\\n...<|eot_id|>`, after
  `<|begin_of_text|>` (tokenize the result with `add_special_tokens=False`).
- `raw`: the text itself, for base models; a system prompt goes first, separated by a blank line.
No template adds a system prompt unless one is passed.

Records that arrive already formatted in another model's layout would teach the model foreign
turn markers; `foreign_template_markers` finds them so the run can warn before training.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from jinja2 import TemplateError

from halo_forge.data.records import (
    ChatMessage,
    ChatRecord,
    PromptCompletionRecord,
    Record,
    TextRecord,
)
from halo_forge.errors import ConfigError, ModelError


class ChatTemplate(str, Enum):
    """Built-in chat layouts, for when no tokenizer is given."""

    QWEN = "qwen"
    CHATML = "chatml"
    LLAMA3 = "llama3"
    RAW = "raw"


@runtime_checkable
class TokenizerWithChatTemplate(Protocol):
    """What is used of a Hugging Face tokenizer (no transformers import needed here)."""

    eos_token: Any

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any: ...


Template = ChatTemplate | str | TokenizerWithChatTemplate

_END_MARKERS = {
    ChatTemplate.QWEN: "<|im_end|>",
    ChatTemplate.CHATML: "<|im_end|>",
    ChatTemplate.LLAMA3: "<|eot_id|>",
    ChatTemplate.RAW: "",
}


def resolve_template(template: Template) -> ChatTemplate | TokenizerWithChatTemplate:
    """A tokenizer as is, or the built-in template a name stands for."""
    if isinstance(template, TokenizerWithChatTemplate):
        return template
    try:
        return ChatTemplate(template)
    except ValueError:
        allowed = ", ".join(member.value for member in ChatTemplate)
        raise ConfigError(
            f"unknown chat template {template!r}; allowed: {allowed}, or pass a tokenizer"
        ) from None


def template_name(template: Template) -> str:
    """A short label for records and logs: the built-in name or the tokenizer's model path."""
    resolved = resolve_template(template)
    if isinstance(resolved, ChatTemplate):
        return resolved.value
    return str(getattr(resolved, "name_or_path", "") or "tokenizer")


def format_messages(
    messages: Sequence[Mapping[str, str] | ChatMessage],
    template: Template,
    add_generation_prompt: bool = True,
) -> str:
    """A conversation (`[{role, content}, ...]` or a `ChatRecord`'s messages) as text in
    `template`'s layout. With `add_generation_prompt`, the text ends where the answer starts.
    """
    resolved = resolve_template(template)
    conversation = [
        message.model_dump()
        if isinstance(message, ChatMessage)
        else {"role": message["role"], "content": message["content"]}
        for message in messages
    ]
    if not isinstance(resolved, ChatTemplate):
        return _apply_tokenizer_template(resolved, conversation, add_generation_prompt)
    if resolved is ChatTemplate.RAW:
        return "\n\n".join(message["content"] for message in conversation)
    if resolved is ChatTemplate.LLAMA3:
        text = "<|begin_of_text|>" + "".join(
            f"<|start_header_id|>{message['role']}<|end_header_id|>\n\n"
            f"{message['content'].strip()}<|eot_id|>"
            for message in conversation
        )
        opening = "<|start_header_id|>assistant<|end_header_id|>\n\n"
    else:
        text = "".join(
            f"<|im_start|>{message['role']}\n{message['content']}<|im_end|>\n"
            for message in conversation
        )
        opening = "<|im_start|>assistant\n"
    return text + opening if add_generation_prompt else text


def format_prompt(
    prompt: str, system_prompt: str | None = None, template: Template = "chatml"
) -> str:
    """One user prompt (and an optional system prompt) ready for the model to answer."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": prompt})
    return format_messages(messages, template, add_generation_prompt=True)


def completion_end(template: Template) -> str:
    """What closes an assistant turn (appended to SFT completions so the model learns to stop).

    For a tokenizer this is its end-of-sequence token; `raw` has none (the trainer adds EOS).
    """
    resolved = resolve_template(template)
    if isinstance(resolved, ChatTemplate):
        return _END_MARKERS[resolved]
    return str(resolved.eos_token or "")


def _apply_tokenizer_template(
    tokenizer: TokenizerWithChatTemplate,
    conversation: list[dict[str, str]],
    add_generation_prompt: bool,
) -> str:
    try:
        return tokenizer.apply_chat_template(
            conversation, tokenize=False, add_generation_prompt=add_generation_prompt
        )
    except (ValueError, TemplateError) as error:  # no template, or one that rejects the chat
        allowed = ", ".join(member.value for member in ChatTemplate)
        raise ModelError(
            f"the tokenizer cannot format a chat ({error}); use a tokenizer that has a chat "
            f"template, or a built-in template: {allowed}"
        ) from None


#: Chat-template families and the turn marker that gives each away: a text holding the marker
#: was formatted in that family's layout. Each marker is a literal of the family's own template.
TEMPLATE_FAMILY_MARKERS: dict[str, str] = {
    "ChatML (Qwen, Yi, SmolLM)": "<|im_start|>",
    "Llama 3": "<|start_header_id|>",
    "Llama 2 / Mistral": "[INST]",
    "Gemma": "<start_of_turn>",
    "Phi-3 / Zephyr": "<|user|>",
}


def record_text(record: Record) -> str:
    """Every text of a record the model reads, joined, for the search for template markers."""
    if isinstance(record, ChatRecord):
        return "\n".join(message.content for message in record.messages)
    if isinstance(record, PromptCompletionRecord):
        return f"{record.prompt}\n{record.completion}"
    if isinstance(record, TextRecord):
        return record.text
    return record.prompt


def foreign_template_markers(
    texts: Iterable[str], tokenizer_chat_template: str | None
) -> str | None:
    """A warning when texts already carry the turn markers of a chat template the model lacks.

    Each text is one record (see `record_text`). A family counts as foreign when its marker is
    not in `tokenizer_chat_template` (`None`: the model has no chat template at all). Trained on
    such records, the model learns another model's turn layout and is then prompted in its own,
    so the warning names the family, how many records carry it and the fix. `None` when no
    record has a foreign marker.
    """
    foreign = {
        family: marker
        for family, marker in TEMPLATE_FAMILY_MARKERS.items()
        if marker not in (tokenizer_chat_template or "")
    }
    records_with: Counter[str] = Counter()
    total = 0
    for text in texts:
        total += 1
        records_with.update(family for family, marker in foreign.items() if marker in text)
    if not records_with:
        return None
    found = ", ".join(
        f"{family} ({foreign[family]!r}) in {count} of {total} records"
        for family, count in records_with.most_common()
    )
    model_side = (
        "the model's chat template does not use"
        if tokenizer_chat_template
        else "the model has no chat template, so it does not know"
    )
    return (
        f"the data is already formatted in another chat template: {found}, markers that "
        f"{model_side}. Write {{prompt, completion}} or {{messages}} records in plain text and "
        "let halo-forge apply the model's own template (`halo-forge data prepare --tokenizer "
        "MODEL` formats prepared data for that model)"
    )
