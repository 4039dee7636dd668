"""Chat formatting: built-in layouts, end markers, and a real tokenizer's own chat template."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from halo_forge.data.records import ChatRecord
from halo_forge.data.templates import (
    ChatTemplate,
    completion_end,
    format_messages,
    format_prompt,
    template_name,
)
from halo_forge.errors import ConfigError, ModelError

# A chat template written for the test tokenizer: it differs from every built-in layout, so a
# match proves the tokenizer's own template was used.
TINY_CHAT_TEMPLATE = (
    "{% for message in messages %}[{{ message.role }}]{{ message.content }}<eos>{% endfor %}"
    "{% if add_generation_prompt %}[assistant]{% endif %}"
)


def tiny_tokenizer(chat_template: str | None):
    """A word-level tokenizer trained here on a few strings (nothing is downloaded)."""
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["[UNK]", "<eos>"])
    backend.train_from_iterator(["write a function", "print hello world"], trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<eos>")
    tokenizer.chat_template = chat_template
    return tokenizer


def test_chatml_prompt_ends_where_the_answer_starts() -> None:
    assert format_prompt("Write add.", template="chatml") == (
        "<|im_start|>user\nWrite add.<|im_end|>\n<|im_start|>assistant\n"
    )


def test_chatml_places_a_requested_system_prompt_first() -> None:
    assert format_prompt("Write add.", system_prompt="Be brief.", template="qwen") == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nWrite add.<|im_end|>\n<|im_start|>assistant\n"
    )


def test_llama3_prompt_layout() -> None:
    assert format_prompt("Write add.", system_prompt="Be brief.", template="llama3") == (
        "<|begin_of_text|>"
        "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nWrite add.<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def test_raw_prompt_is_the_text_with_an_optional_system_prompt_first() -> None:
    assert format_prompt("Write add.", template="raw") == "Write add."
    assert format_prompt("Write add.", "Be brief.", ChatTemplate.RAW) == "Be brief.\n\nWrite add."


@pytest.mark.parametrize("template", list(ChatTemplate))
def test_no_template_adds_a_system_prompt_unasked(template: ChatTemplate) -> None:
    text = format_prompt("Write add.", template=template)
    assert "system" not in text
    assert "Windows" not in text


def test_whole_conversation_without_generation_prompt() -> None:
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
    ]
    text = format_messages(messages, "chatml", add_generation_prompt=False)
    assert text == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n"
    record = ChatRecord(messages=messages)
    assert format_messages(record.messages, "chatml", add_generation_prompt=False) == text


def test_completion_end_markers_close_an_assistant_turn() -> None:
    assert completion_end("chatml") == completion_end("qwen") == "<|im_end|>"
    assert completion_end("llama3") == "<|eot_id|>"
    assert completion_end("raw") == ""


def test_unknown_template_name_lists_the_allowed_ones() -> None:
    with pytest.raises(ConfigError, match="qwen, chatml, llama3, raw"):
        format_prompt("x", template="alpaca")


def test_a_tokenizer_formats_with_its_own_chat_template() -> None:
    tokenizer = tiny_tokenizer(TINY_CHAT_TEMPLATE)
    assert format_prompt("write a function", template=tokenizer) == (
        "[user]write a function<eos>[assistant]"
    )
    assert format_prompt("x", system_prompt="s", template=tokenizer) == (
        "[system]s<eos>[user]x<eos>[assistant]"
    )
    assert completion_end(tokenizer) == "<eos>"
    assert template_name("llama3") == "llama3"


def test_a_tokenizer_without_chat_template_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="built-in template: qwen, chatml, llama3, raw"):
        format_prompt("write a function", template=tiny_tokenizer(None))
