"""The demo's closing sentences: gains, noise and lost diversity stated from the results."""

from __future__ import annotations

from halo_forge.demo.report import describe_change


def test_fall_in_pass_at_5_is_reported_as_lost_diversity(write_run) -> None:
    # 20 prompts: each rises from 1 to 3 of 5 passing samples, but 4 of them lose the
    # only passing answer they had, so pass@5 falls while pass@1 rises.
    before = write_run("baseline", {f"p{i}": (5, 1) for i in range(20)}, [1, 5])
    after = write_run("final", {f"p{i}": (5, 0 if i < 4 else 3) for i in range(20)}, [1, 5])

    lines = describe_change(before, after)

    assert "pass@1: 20.0% -> 48.0% (+28.0 points, standard error" in lines[0]
    assert lines[0].endswith(": gain)")
    assert lines[1].startswith("pass@5: 100.0% -> 80.0% (-20.0 points")
    assert lines[1].endswith(": loss)")
    assert any(line.startswith("diversity: pass@5 fell") for line in lines)
    assert any("paired over the 20 held-out prompts" in line for line in lines)


def test_change_as_large_as_its_paired_noise_is_called_noise(write_run) -> None:
    # Two prompts gain 2 of 5, one loses 3 of 5: +6.7 points with a standard error of 33.3.
    before = write_run("baseline", {"a": (5, 2), "b": (5, 2), "c": (5, 4)}, [1])
    after = write_run("final", {"a": (5, 4), "b": (5, 4), "c": (5, 1)}, [1])

    lines = describe_change(before, after)

    assert lines[0].startswith("pass@1: 53.3% -> 60.0% (+6.7 points, standard error 33.3")
    assert lines[0].endswith("within noise)")
    assert not any(line.startswith("diversity") for line in lines)


def test_consistent_small_change_over_many_prompts_is_a_gain(write_run) -> None:
    # Every one of 50 prompts gains one passing sample of 5: +20 points, no spread at all.
    before = write_run("baseline", {f"p{i}": (5, 1 + i % 3) for i in range(50)}, [1])
    after = write_run("final", {f"p{i}": (5, 2 + i % 3) for i in range(50)}, [1])

    assert describe_change(before, after)[0].endswith("(+20.0 points, standard error 0.0: gain)")
