"""`builtin:tiny-coder`: the embedded model the demo and the tests run on a laptop CPU.

It is never downloaded. The first use builds it from this file alone:
1. a byte-level BPE tokenizer (~1k tokens) trained with `tokenizers` on the built-in task corpus
   (prompts and reference solutions of every built-in suite) plus a few generic C, C++ and Python
   snippets, so that every character those languages use has short encodings;
2. a Qwen2-architecture causal LM of about two million parameters, initialised from a fixed seed;
3. a ChatML chat template with `<|im_end|>` as end of turn (no default system prompt).

The result is a standard Hugging Face directory (`AutoModelForCausalLM.from_pretrained` and
`AutoTokenizer.from_pretrained` load it), cached under `$HALO_FORGE_CACHE_DIR/models/tiny-coder`
(default `${XDG_CACHE_HOME:-~/.cache}/halo-forge/models/tiny-coder`). The build is
deterministic, runs under a file lock so concurrent processes build it once, and is written to
a temporary directory that is renamed into place, so a killed build never leaves a directory
that looks finished.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from filelock import FileLock
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

from halo_forge.distributed import is_main_process
from halo_forge.errors import ModelError
from halo_forge.files import replacing_directory, write_json
from halo_forge.paths import cache_root

TINY_MODEL_NAME = "builtin:tiny-coder"

# Bump when anything below changes what gets built: caches with another version are rebuilt.
RECIPE_VERSION = 2
BUILD_INFO_FILE = "halo_forge_build.json"
#: How long the other processes of a launch wait for the main one to build the model.
BUILD_WAIT_S = 1800
#: Written beside an adapter of the tiny model. The adapter records the model's directory as its
#: base (so plain `AutoPeftModelForCausalLM` opens it); this file says that directory is the
#: builtin model, so halo-forge finds it, or rebuilds it, on a machine whose cache lies elsewhere.
BUILTIN_BASE_FILE = "halo_forge_base.json"

VOCAB_SIZE = 1024
HIDDEN_SIZE = 192
INTERMEDIATE_SIZE = 512
NUM_LAYERS = 4
NUM_ATTENTION_HEADS = 6
NUM_KEY_VALUE_HEADS = 2
MAX_POSITIONS = 2048
INIT_SEED = 0
CORPUS_SEED = 0
TASKS_PER_SUITE = 400

END_OF_TEXT = "<|endoftext|>"
TURN_START = "<|im_start|>"
TURN_END = "<|im_end|>"

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# Generic code beyond the task corpus, so the tokenizer has short encodings for the headers,
# keywords and punctuation that model output in C, C++ and Python commonly uses.
GENERIC_SNIPPETS = (
    "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\nint main(void) {\n"
    '    int n;\n    if (scanf("%d", &n) != 1) return 1;\n    printf("%d\\n", n * 2);\n'
    "    return 0;\n}\n",
    "#include <iostream>\n#include <vector>\n#include <string>\n#include <algorithm>\n"
    "#include <map>\n\nint main() {\n    std::vector<int> values;\n    int x;\n"
    "    while (std::cin >> x) values.push_back(x);\n"
    "    std::sort(values.begin(), values.end());\n"
    '    for (const auto& v : values) std::cout << v << " ";\n'
    "    std::cout << std::endl;\n    return 0;\n}\n",
    "struct Node {\n    int value;\n    struct Node *next;\n};\n\n"
    "unsigned long long hash(const char *s) {\n    unsigned long long h = 5381;\n"
    "    while (*s) h = ((h << 5) + h) ^ (unsigned char)*s++;\n    return h;\n}\n",
    "def count_words(text: str) -> dict[str, int]:\n"
    '    """Count how often each word occurs."""\n    counts = {}\n'
    "    for word in text.split():\n        counts[word] = counts.get(word, 0) + 1\n"
    "    return counts\n\n\nclass Stack:\n    def __init__(self):\n        self.items = []\n\n"
    "    def push(self, item):\n        self.items.append(item)\n\n"
    "    def pop(self):\n        return self.items.pop() if self.items else None\n",
    "import sys\n\n\ndef main() -> None:\n    data = sys.stdin.read().split()\n"
    "    numbers = [int(x) for x in data]\n    print(sum(numbers) % 1_000_000_007)\n"
    "    print(f\"{max(numbers, default=0)!r} {'yes' if numbers else 'no'}\")\n\n\n"
    'if __name__ == "__main__":\n    main()\n',
    "template <typename T>\nT clamp_value(T value, T low, T high) {\n"
    "    return value < low ? low : (value > high ? high : value);\n}\n"
    "bool is_even(long long n) { return (n & 1LL) == 0 || n % 2 == 0; }\n"
    "// ~!@#$%^&*()_+-=[]{}|;':\",./<>?`\\\t\n",
    "Write a function that returns the sum. Write a complete program. Read from stdin and print "
    "the result. Return True if the string is a palindrome, otherwise False.\n",
)


def tiny_model_dir() -> Path:
    """Where the built tiny model lives (it may not be built yet)."""
    return cache_root() / "models" / "tiny-coder"


def ensure_tiny_model() -> Path:
    """The directory of `builtin:tiny-coder`, built on first use (once, even across processes).

    The path is absolute, because adapters record it as their base.
    """
    target = tiny_model_dir().expanduser().resolve()
    if _is_current_build(target):
        return target
    if not is_main_process():
        # transformers writes weights from rank 0 only once a process group exists, so under a
        # multi-process launch the main process builds and the others wait for its build.
        return _wait_for_build(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / "tiny-coder.lock")):
        if _is_current_build(target):  # another process built it while we waited
            return target
        with replacing_directory(target) as staging:
            build_tiny_model(staging)
    return target


def _wait_for_build(target: Path) -> Path:
    deadline = time.monotonic() + BUILD_WAIT_S
    while not _is_current_build(target):
        if time.monotonic() > deadline:
            raise ModelError(
                f"waited {BUILD_WAIT_S} s for the main process to build {TINY_MODEL_NAME} in "
                f"{target}; start the launch again, or build it first with one process "
                "(halo-forge test)"
            )
        time.sleep(0.5)
    return target


def is_tiny_model_dir(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is the tiny model's directory: this machine's (built or not yet), or any
    directory holding its build info (another cache location)."""
    directory = Path(path).expanduser()
    if directory.resolve() == tiny_model_dir().expanduser().resolve():
        return True
    try:
        info = json.loads((directory / BUILD_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return isinstance(info, dict) and info.get("name") == TINY_MODEL_NAME


def mark_builtin_base(adapter_dir: Path) -> None:
    """Record beside an adapter that its base is the tiny model (`BUILTIN_BASE_FILE`)."""
    write_json(adapter_dir / BUILTIN_BASE_FILE, {"base_model": TINY_MODEL_NAME})


def has_builtin_base(adapter_dir: str | os.PathLike[str]) -> bool:
    """Whether an adapter directory says its base is the tiny model (`mark_builtin_base`)."""
    try:
        marker = json.loads((Path(adapter_dir) / BUILTIN_BASE_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return isinstance(marker, dict) and marker.get("base_model") == TINY_MODEL_NAME


def _is_current_build(directory: Path) -> bool:
    info = directory / BUILD_INFO_FILE
    if not info.is_file():
        return False
    try:
        return json.loads(info.read_text(encoding="utf-8")).get("recipe_version") == RECIPE_VERSION
    except (OSError, json.JSONDecodeError):
        return False


def build_tiny_model(output_dir: str | os.PathLike[str]) -> Path:
    """Train the tokenizer, initialise the model and save both as a Hugging Face directory.

    Deterministic: the same recipe version gives byte-identical files.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tiny_tokenizer(tiny_corpus())
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN_SIZE,
        intermediate_size=INTERMEDIATE_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_ATTENTION_HEADS,
        num_key_value_heads=NUM_KEY_VALUE_HEADS,
        max_position_embeddings=MAX_POSITIONS,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids(TURN_END),
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(INIT_SEED)
        model = Qwen2ForCausalLM(config)
    # Generation ends at the end of the assistant turn or at the end of a raw document.
    model.generation_config = GenerationConfig(
        eos_token_id=[
            tokenizer.convert_tokens_to_ids(TURN_END),
            tokenizer.convert_tokens_to_ids(END_OF_TEXT),
        ],
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    (output_dir / BUILD_INFO_FILE).write_text(
        json.dumps({"name": TINY_MODEL_NAME, "recipe_version": RECIPE_VERSION}, indent=2) + "\n",
        encoding="utf-8",
    )
    return output_dir


def tiny_corpus() -> Iterator[str]:
    """Texts the tokenizer is trained on: every built-in suite's prompts and solutions, then snippets."""
    from halo_forge.data.builtin_tasks import BUILTIN_SUITES, generate_tasks

    for suite in sorted(BUILTIN_SUITES):
        for task in generate_tasks(suite, count=TASKS_PER_SUITE, seed=CORPUS_SEED):
            yield task["prompt"]
            yield task["solution"]
    yield from GENERIC_SNIPPETS
    for role in ("system", "user", "assistant"):
        yield f"{TURN_START}{role}\n"


def train_tiny_tokenizer(texts: Iterator[str]) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer with ChatML special tokens, wrapped for `transformers`.

    Byte-level means every string is encodable (no unknown token), whatever the model writes.
    """
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[END_OF_TEXT, TURN_START, TURN_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=TURN_END,
        pad_token=END_OF_TEXT,
        chat_template=CHATML_TEMPLATE,
        model_max_length=MAX_POSITIONS,
    )
