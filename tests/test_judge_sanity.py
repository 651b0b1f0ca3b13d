"""A judge that cannot say 0 reports no accuracy: it is checked on known cases first."""

import pytest

from clipflows.agents.judge import Judgement
from clipflows.components.set_difference.evaluation import (
    checked,
    evaluate,
    judge_sanity_cases,
)
from clipflows.components.set_difference.ranking import Hypothesis
from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, candidate_pool, write_pair
from clipflows.components.world.vocabulary import WORLD_VOCABULARY

PAIR = next(p for p in WORLD_SET_PAIRS if p.name == "red-vs-blue")
RIGHT = {
    ("red objects", "A"),
    ("red shapes", "A"),
    ("blue shapes", "B"),
}  # what a right judge credits


def always_one(text: str, direction: str) -> tuple[float, str]:
    return 1.0, "looks right"


def right(text: str, direction: str) -> tuple[float, str]:
    return (1.0, "names it") if (text, direction) in RIGHT else (0.0, "names something else")


def test_sanity_cases_are_the_truth_its_swap_and_an_unrelated_phrase():
    cases = judge_sanity_cases("red objects vs blue objects")
    assert [(c.text, c.direction, c.expected) for c in cases] == [
        ("red objects", "A", 1.0),
        ("red objects", "B", 0.0),
        ("dogs playing in snow", "A", 0.0),
    ]
    about_dogs = judge_sanity_cases("dogs vs cats")[2].text
    assert about_dogs != "dogs playing in snow" and "dogs" not in about_dogs


def test_a_judge_that_always_gives_one_reports_no_accuracy():
    ranked = [Hypothesis(text="red shapes", direction="A")]
    result = checked(evaluate(ranked, always_one), judge_sanity_cases(PAIR.truth), always_one)
    assert result.acc_at_1 is None and result.acc_at_5 is None
    assert "failed its sanity check" in result.judge_warning
    assert "'dogs playing in snow' (more true of A): 1, expected 0" in result.judge_warning


def test_a_right_judge_reports_accuracy():
    ranked = [Hypothesis(text="red shapes", direction="A")]
    result = checked(evaluate(ranked, right), judge_sanity_cases(PAIR.truth), right)
    assert (result.acc_at_1, result.acc_at_5, result.judge_warning) == (1.0, 1.0, None)
    assert [j.score for j in result.sanity] == [1.0, 0.0, 0.0]


@pytest.fixture
def world_sets(settings, world_spec, tmp_path):
    set_a, set_b = write_pair(PAIR, tmp_path, count=20)
    return str(set_a), str(set_b), settings.model_copy(update={"clip": world_spec})


def _run(world_sets, tmp_path):
    from clipflows.flows.set_difference import set_difference

    set_a, set_b, settings = world_sets
    return set_difference(
        set_a,
        set_b,
        settings=settings,
        vocabulary=WORLD_VOCABULARY,
        llm_proposals=False,
        extra_hypotheses=candidate_pool(PAIR),
        truth=PAIR.truth,
        output=str(tmp_path / "out"),
        vocabulary_candidates=False,
    )


def test_the_flow_withholds_accuracy_when_its_judge_says_one_to_everything(
    world_sets, tmp_path, prefect_harness, monkeypatch
):
    import clipflows.flows.set_difference as flow_module

    def yes_judge(llm, text, direction, truth, embed):
        return Judgement(score=1.0, reason="looks right")

    monkeypatch.setattr(flow_module, "judge", yes_judge)
    result = _run(world_sets, tmp_path)
    assert result.evaluation.acc_at_1 is None and result.evaluation.acc_at_5 is None
    assert "failed its sanity check" in result.evaluation.judge_warning
    assert "dogs playing in snow" in result.evaluation.judge_warning
    assert "failed its sanity check" in (tmp_path / "out" / "report.md").read_text()


def test_the_flow_reports_accuracy_when_its_judge_is_right(
    world_sets, tmp_path, prefect_harness, monkeypatch
):
    import clipflows.flows.set_difference as flow_module

    def stub_judge(llm, text, direction, truth, embed):
        score, reason = right(text, direction)
        return Judgement(score=score, reason=reason)

    monkeypatch.setattr(flow_module, "judge", stub_judge)
    result = _run(world_sets, tmp_path)
    assert result.evaluation.judge_warning is None
    assert result.evaluation.acc_at_1 == 1.0 and result.evaluation.acc_at_5 == 1.0
