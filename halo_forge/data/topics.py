"""Topic specs: what to ask an LLM for when generating training examples about one subject.

A topic is a YAML file (the built-in ones live in `halo_forge/data/topics/`) holding a system
prompt, the answer format (a fenced code block in the topic's language, so verifiers can
extract the program) and prompt templates whose `{placeholders}` take values from lists:

    templates:
      - text: "Write a C function that {task} without {forbidden}."
        values:
          task: ["reverses a singly linked list", "parses a decimal integer"]
          forbidden: ["recursion", "dynamic allocation"]

`expand_topic(spec, samples, seed)` fills the templates: every combination of every template is
one distinct prompt, visited in a seeded random order. The order is prefix-stable (the first
100 prompts of `samples=200` are the prompts of `samples=100`), so raising `--samples` and
rerunning into the same output only generates the new ones. Past the number of distinct
prompts, the combinations repeat in a fresh order with `repeat` counting the rounds.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from halo_forge.config.loader import load_yaml, validation_problems
from halo_forge.errors import ConfigError

BUILTIN_TOPICS_DIR = Path(__file__).with_name("topics")


class PromptTemplate(BaseModel):
    """One prompt with `{placeholders}`; `values` lists what each placeholder can become."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    values: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("values")
    @classmethod
    def _value_lists_are_filled(cls, values: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, choices in values.items():
            if not choices:
                raise ValueError(f"placeholder '{name}' has an empty value list")
            if len(set(choices)) != len(choices):
                raise ValueError(f"placeholder '{name}' lists a value twice")
        return values

    @model_validator(mode="after")
    def _placeholders_match_values(self) -> PromptTemplate:
        used = placeholders(self.text)
        missing = sorted(used - self.values.keys())
        unused = sorted(self.values.keys() - used)
        if missing:
            raise ValueError(f"placeholders {missing} in text have no entry under 'values'")
        if unused:
            raise ValueError(f"values {unused} are not used as {{placeholders}} in text")
        return self

    @property
    def combinations(self) -> int:
        return math.prod(len(choices) for choices in self.values.values())

    def fill(self, index: int) -> tuple[str, dict[str, str]]:
        """Combination number `index` (mixed-radix over the value lists) and its values."""
        chosen: dict[str, str] = {}
        for name, choices in self.values.items():
            index, position = divmod(index, len(choices))
            chosen[name] = choices[position]
        return self.text.format(**chosen), chosen


class TopicSpec(BaseModel):
    """A validated topic: who the LLM should be, what to ask, and how to answer."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    language: str = Field(min_length=1, description="fenced-block tag of the answers, e.g. cpp")
    description: str = Field(min_length=1)
    system_prompt: str = Field(min_length=1)
    answer_format: str = Field(min_length=1)
    templates: list[PromptTemplate] = Field(min_length=1)

    @model_validator(mode="after")
    def _answer_format_asks_for_fenced_code(self) -> TopicSpec:
        fence = f"```{self.language}"
        if fence not in self.answer_format:
            raise ValueError(
                f"answer_format must ask for a {fence} fenced block, so verifiers find the code"
            )
        return self

    @property
    def distinct_prompts(self) -> int:
        return sum(template.combinations for template in self.templates)


@dataclass(frozen=True)
class TopicPrompt:
    """One expanded prompt: the user message sent to the LLM, and where it came from."""

    prompt: str
    template: int  # index into TopicSpec.templates
    values: dict[str, str]
    repeat: int  # 0 the first time this prompt appears, 1 the second, ...


def placeholders(text: str) -> set[str]:
    """Names of the `{placeholders}` in a template text."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def expand_topic(spec: TopicSpec, samples: int, seed: int) -> list[TopicPrompt]:
    """`samples` prompts of `spec`, the same list for the same seed (see the module docstring)."""
    if samples < 0:
        raise ConfigError(f"samples must be >= 0, got {samples}")
    rng = random.Random(seed)
    total = spec.distinct_prompts
    prompts: list[TopicPrompt] = []
    repeat = 0
    while len(prompts) < samples:
        for index in _lazy_permutation(total, rng):
            if len(prompts) == samples:
                break
            template_number, combination = _locate(spec, index)
            text, values = spec.templates[template_number].fill(combination)
            prompt = f"{text.strip()}\n\n{spec.answer_format.strip()}"
            prompts.append(TopicPrompt(prompt, template_number, values, repeat))
        repeat += 1
    return prompts


def _lazy_permutation(total: int, rng: random.Random) -> Iterator[int]:
    """A Fisher-Yates shuffle of range(total) that stores only the positions it has swapped.

    Drawing n values costs O(n) time and memory whatever `total` is, so a topic with billions
    of combinations expands as fast as a small one, and a prefix never depends on `samples`.
    """
    swapped: dict[int, int] = {}
    for position in range(total):
        pick = rng.randrange(position, total)
        yield swapped.get(pick, pick)
        swapped[pick] = swapped.get(position, position)
        swapped.pop(position, None)


def _locate(spec: TopicSpec, index: int) -> tuple[int, int]:
    """(template number, combination number) of a global combination index."""
    for template_number, template in enumerate(spec.templates):
        if index < template.combinations:
            return template_number, index
        index -= template.combinations
    raise IndexError(index)


def load_topic_file(path: str | Path) -> TopicSpec:
    """Read and validate one topic YAML file; errors name the file and the key."""
    path = Path(path)
    raw = load_yaml(path, what="topic")
    try:
        return TopicSpec.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            problem.describe() for problem in validation_problems(error, TopicSpec)
        )
        raise ConfigError(f"{path}: invalid topic spec: {problems}") from None


def list_topics() -> list[TopicSpec]:
    """The built-in topics, sorted by name."""
    return [load_topic_file(path) for path in sorted(BUILTIN_TOPICS_DIR.glob("*.yaml"))]


def load_topic(name_or_path: str) -> TopicSpec:
    """A built-in topic by name, or a topic YAML file by path."""
    builtin = BUILTIN_TOPICS_DIR / f"{name_or_path}.yaml"
    if builtin.is_file():
        return load_topic_file(builtin)
    if name_or_path.endswith((".yaml", ".yml")):
        return load_topic_file(name_or_path)
    names = ", ".join(path.stem for path in sorted(BUILTIN_TOPICS_DIR.glob("*.yaml")))
    raise ConfigError(
        f"unknown topic {name_or_path!r}; built-in topics: {names} "
        "(or pass the path of a topic .yaml file)"
    )
