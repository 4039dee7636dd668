"""Chat formatting: built-in layouts, end markers, and a real tokenizer's own chat template."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from halo_forge.data.records import (
    ChatRecord,
    PromptCompletionRecord,
    PromptRecord,
    Record,
    TextRecord,
)
from halo_forge.data.templates import (
    ChatTemplate,
    completion_end,
    foreign_template_markers,
    format_messages,
    format_prompt,
    record_text,
    template_name,
)
from halo_forge.errors import ConfigError, ModelError
from halo_forge.models import TINY_MODEL_NAME, load_tokenizer

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


# ----------------------------------------------------------------------------- foreign markers

# The chat template that Meta-Llama-3-8B-Instruct's tokenizer_config.json ships.
LLAMA3_CHAT_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] "
    "| trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}"
    "{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_coder_template() -> str:
    """The chat template of the built-in model's tokenizer (ChatML)."""
    template = load_tokenizer(TINY_MODEL_NAME).chat_template
    assert isinstance(template, str)
    return template


def test_chatml_records_for_a_llama3_model_name_family_count_and_fix() -> None:
    tokenizer = load_tokenizer(TINY_MODEL_NAME)
    texts = [
        format_prompt("Write add.", template=tokenizer),
        format_prompt("Write sub.", template=tokenizer),
        "Write mul.",
    ]

    warning = foreign_template_markers(texts, LLAMA3_CHAT_TEMPLATE)

    assert warning is not None
    assert "ChatML" in warning and "'<|im_start|>'" in warning
    assert "in 2 of 3 records" in warning
    assert "{prompt, completion} or {messages} records" in warning
    assert "--tokenizer" in warning


def test_llama3_records_for_the_tiny_model_name_llama3(tiny_coder_template: str) -> None:
    texts = [format_prompt("Write add.", template="llama3")]

    warning = foreign_template_markers(texts, tiny_coder_template)

    assert warning is not None and "Llama 3" in warning and "1 of 1 records" in warning


def test_records_in_the_models_own_template_give_no_warning(tiny_coder_template: str) -> None:
    assert (
        foreign_template_markers(
            [format_prompt("Write add.", template="chatml")], tiny_coder_template
        )
        is None
    )
    assert (
        foreign_template_markers(
            [format_prompt("Write add.", template="llama3")], LLAMA3_CHAT_TEMPLATE
        )
        is None
    )
    assert foreign_template_markers(["int main(void) { return 0; }"], None) is None


def test_every_family_found_is_named_with_its_own_count(tiny_coder_template: str) -> None:
    texts = [
        "[INST] Write add. [/INST]",
        "<start_of_turn>user\nWrite add.<end_of_turn>",
        "<|user|>\nWrite add.<|end|>",
        "<start_of_turn>user\nWrite sub.<end_of_turn>",
    ]

    warning = foreign_template_markers(texts, tiny_coder_template)

    assert warning is not None
    assert "Gemma ('<start_of_turn>') in 2 of 4 records" in warning
    assert "Llama 2 / Mistral ('[INST]') in 1 of 4 records" in warning
    assert "Phi-3 / Zephyr ('<|user|>') in 1 of 4 records" in warning


def test_a_model_without_a_chat_template_is_warned_about_any_family() -> None:
    warning = foreign_template_markers([format_prompt("Write add.", template="chatml")], None)

    assert warning is not None and "the model has no chat template" in warning


@pytest.mark.parametrize(
    "record",
    [
        TextRecord(text="<|im_start|>user\nWrite add.<|im_end|>"),
        PromptCompletionRecord(prompt="Write add.", completion="<|im_start|>assistant\nx"),
        ChatRecord(
            messages=[
                {"role": "user", "content": "<|im_start|>user\nWrite add."},
                {"role": "assistant", "content": "x"},
            ]
        ),
        PromptRecord(prompt="<|im_start|>user\nWrite add.<|im_end|>"),
    ],
    ids=["text", "prompt-completion", "messages", "rlvr-prompt"],
)
def test_record_text_exposes_markers_in_every_record_shape(record: Record) -> None:
    assert foreign_template_markers([record_text(record)], LLAMA3_CHAT_TEMPLATE) is not None
