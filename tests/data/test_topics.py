"""Topic specs: the shipped ones validate, expansion is deterministic, broken specs name the key."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from halo_forge.data.topics import (
    BUILTIN_TOPICS_DIR,
    TopicSpec,
    _lazy_permutation,
    expand_topic,
    list_topics,
    load_topic,
    load_topic_file,
)
from halo_forge.errors import ConfigError

REQUIRED_TOPICS = {
    "rust_async",
    "python_testing",
    "cpp_algorithms",
    "go_concurrency",
    "windows_api",
    "c_systems",
    "python_algorithms",
}


def small_spec(**overrides: object) -> dict[str, object]:
    spec: dict[str, object] = {
        "name": "tiny",
        "language": "c",
        "description": "A tiny topic.",
        "system_prompt": "You write C.",
        "answer_format": "Answer in one ```c fenced block.",
        "templates": [
            {"text": "Write {what} in C.", "values": {"what": ["a", "b", "c"]}},
            {"text": "Explain {x} with {y}.", "values": {"x": ["p", "q"], "y": ["r", "s"]}},
        ],
    }
    spec.update(overrides)
    return spec


def write_spec(tmp_path: Path, spec: dict[str, object]) -> Path:
    path = tmp_path / "topic.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_every_builtin_topic_validates_and_is_named_after_its_file() -> None:
    topics = list_topics()
    assert {spec.name for spec in topics} >= REQUIRED_TOPICS
    for spec in topics:
        assert (BUILTIN_TOPICS_DIR / f"{spec.name}.yaml").is_file()
        assert f"```{spec.language}" in spec.answer_format
        assert spec.distinct_prompts >= 20


def test_builtin_topic_prompts_are_filled_and_ask_for_the_answer_format() -> None:
    for spec in list_topics():
        for expanded in expand_topic(spec, spec.distinct_prompts, seed=0):
            assert "{" not in expanded.prompt and "}" not in expanded.prompt
            assert expanded.prompt.endswith(spec.answer_format.strip())


def test_expansion_is_deterministic_for_a_seed() -> None:
    spec = load_topic("cpp_algorithms")
    assert expand_topic(spec, 20, seed=7) == expand_topic(spec, 20, seed=7)
    assert expand_topic(spec, 20, seed=7) != expand_topic(spec, 20, seed=8)


def test_more_samples_extend_the_same_prefix() -> None:
    spec = load_topic("c_systems")
    assert expand_topic(spec, 150, seed=3)[:40] == expand_topic(spec, 40, seed=3)


def test_prompts_are_distinct_until_every_combination_is_used_then_repeat() -> None:
    spec = TopicSpec.model_validate(small_spec())  # 3 + 2*2 = 7 combinations
    assert spec.distinct_prompts == 7
    expanded = expand_topic(spec, 17, seed=1)
    first_round = [item.prompt for item in expanded[:7]]
    assert len(set(first_round)) == 7
    assert set(first_round) == {item.prompt for item in expanded[7:14]}
    assert [item.repeat for item in expanded] == [0] * 7 + [1] * 7 + [2] * 3
    assert "Write b in C.\n\nAnswer in one ```c fenced block." in first_round
    item = next(item for item in expanded if item.prompt.startswith("Explain q with s."))
    assert (item.template, item.values) == (1, {"x": "q", "y": "s"})


@given(
    total=st.integers(min_value=0, max_value=300), seed=st.integers(min_value=0, max_value=10**6)
)
def test_lazy_permutation_visits_every_index_once(total: int, seed: int) -> None:
    assert sorted(_lazy_permutation(total, random.Random(seed))) == list(range(total))


def test_topic_file_loads_by_path(tmp_path: Path) -> None:
    path = write_spec(tmp_path, small_spec())
    assert load_topic(str(path)).name == "tiny"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"language": None}, "language"),
        ({"colour": "blue"}, "colour: unknown key. Allowed keys: name, language"),
        ({"templates": []}, "templates"),
        ({"name": "Has Spaces"}, "name"),
        ({"answer_format": "Answer in prose."}, "answer_format must ask for a ```c fenced block"),
        (
            {"templates": [{"text": "Write {what} in {where}.", "values": {"what": ["x"]}}]},
            "templates[0] = {'text': 'Write {what} in {where}.', 'values': {'what': ['x']}}: "
            "placeholders ['where'] in text have no entry",
        ),
        (
            {"templates": [{"text": "Write it.", "values": {"what": ["x"]}}]},
            "values ['what'] are not used",
        ),
        (
            {"templates": [{"text": "Write {what}.", "values": {"what": []}}]},
            "templates[0].values = {'what': []}: placeholder 'what' has an empty value list",
        ),
    ],
)
def test_broken_spec_error_names_the_key(
    tmp_path: Path, change: dict[str, object], named: str
) -> None:
    spec = small_spec(**change)
    spec = {key: value for key, value in spec.items() if value is not None}
    path = write_spec(tmp_path, spec)
    with pytest.raises(ConfigError) as caught:
        load_topic_file(path)
    assert str(path) in str(caught.value)
    assert named in str(caught.value)


def test_invalid_yaml_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nlanguage: [c\ndescription: y\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.yaml:\d+: invalid YAML"):
        load_topic_file(path)


def test_unknown_topic_lists_the_builtin_names() -> None:
    with pytest.raises(ConfigError, match=r"unknown topic 'cobol_mainframe'.*rust_async"):
        load_topic("cobol_mainframe")


def test_negative_samples_are_refused() -> None:
    with pytest.raises(ConfigError, match="samples must be >= 0"):
        expand_topic(load_topic("rust_async"), -1, seed=0)
