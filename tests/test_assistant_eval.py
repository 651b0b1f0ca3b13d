"""The assistant's evaluation suite and scorer, on given plans (no LLM)."""

from __future__ import annotations

from clipflows.agents.planner import Plan
from clipflows.flows.assistant_eval import (
    AssistantCase,
    ExpectedStep,
    load_suite,
    normalise_path,
    score_case,
    score_plans,
)

SUITE = load_suite()
GUARD = SUITE.guardrails()


def written_plan(expect: list[ExpectedStep]) -> Plan:
    """The plan that does exactly what the case expects, paths as the user wrote them."""
    steps = []
    for e in expect:
        step = {"tool": e.tool, **e.paths}
        if e.tool == "classify":
            step["context"] = " ".join(e.context_words)
        if e.tool == "none":
            step["reason"] = "no tool does that"
        steps.append(step)
    return Plan.model_validate({"steps": steps})


def case(kind: str) -> AssistantCase:
    return next(c for c in SUITE.cases if c.kind == kind)


def test_the_suite_covers_every_tool_multi_step_declines_and_out_of_bounds_paths():
    assert len(SUITE.cases) >= 24
    kinds = [c.kind for c in SUITE.cases]
    assert kinds.count("decline") >= 4 and kinds.count("out_of_bounds") >= 4
    tools = {e.tool for c in SUITE.cases for e in c.expect}
    assert tools == {"set_difference", "classify", "train_clip", "none"}
    assert any(len(c.expect) > 1 for c in SUITE.cases)
    assert len({c.request for c in SUITE.cases}) == len(SUITE.cases)


def test_the_expected_plan_of_every_case_scores_and_only_plan_cases_run():
    for c in SUITE.cases:
        result = score_case(c, written_plan(c.expect), GUARD)
        assert result.right_tool and result.valid_arguments, c.request
        # Plan cases stay inside the allowed folders; refusal cases run nothing as written.
        assert result.runs_something == (c.kind == "plan"), c.request


def test_paths_are_compared_without_leading_dot_slash_or_trailing_slashes():
    assert normalise_path(" ./data/2025/ ") == normalise_path("data/2025") == "data/2025"
    assert normalise_path("'models/clip_v1//'") == "models/clip_v1"
    assert normalise_path("data/../x") != normalise_path("x")  # the path as written, not resolved
    plan_case = case("plan")
    expected = plan_case.expect[0].model_copy(
        update={k: f"./{v}/" for k, v in plan_case.expect[0].paths.items()}
    )
    assert score_case(plan_case, written_plan([expected]), GUARD).valid_arguments


def test_a_wrong_tool_or_a_wrong_path_does_not_score():
    c = next(c for c in SUITE.cases if c.kind == "plan" and c.expect[0].tool == "set_difference")
    (e,) = c.expect
    wrong_tool = Plan.model_validate({"steps": [{"tool": "classify", "dataset": e.set_a}]})
    result = score_case(c, wrong_tool, GUARD)
    assert not result.right_tool and not result.valid_arguments
    swapped = e.model_copy(update={"set_a": e.set_b, "set_b": e.set_a})
    result = score_case(c, written_plan([swapped]), GUARD)
    assert result.right_tool and not result.valid_arguments
    invented = e.model_copy(update={"set_b": "data/other"})
    assert not score_case(c, written_plan([invented]), GUARD).valid_arguments
    assert not score_case(c, None, GUARD).right_tool  # no valid plan
    missing_step = next(c for c in SUITE.cases if c.kind == "plan" and len(c.expect) > 1)
    assert not score_case(missing_step, written_plan(missing_step.expect[:1]), GUARD).right_tool


def test_a_classify_context_must_name_the_expected_words():
    c = next(c for c in SUITE.cases if c.kind == "plan" and c.expect[0].context_words)
    result = score_case(
        c, written_plan([c.expect[0].model_copy(update={"context_words": []})]), GUARD
    )
    assert result.right_tool and not result.valid_arguments


def test_an_out_of_bounds_path_the_llm_planned_is_still_refused_by_the_guardrails():
    for c in (c for c in SUITE.cases if c.kind == "out_of_bounds"):
        result = score_case(c, written_plan(c.expect), GUARD)
        assert result.held and result.right_tool, c.request
        declined = score_case(c, written_plan([ExpectedStep(tool="none")]), GUARD)
        assert declined.held and declined.right_tool and declined.valid_arguments
    # The LLM "fixing" the path into an allowed folder would run: not held.
    c = case("out_of_bounds")
    inside = [
        e.model_copy(update={k: f"data/x{i}" for i, k in enumerate(e.paths)}) for e in c.expect
    ]
    result = score_case(c, written_plan(inside), GUARD)
    assert result.runs_something and not result.held and not result.valid_arguments


def test_a_decline_holds_only_when_nothing_would_run():
    c = case("decline")
    assert score_case(c, written_plan(c.expect), GUARD).held
    ran = score_case(c, written_plan([ExpectedStep(tool="classify", dataset="data/birds")]), GUARD)
    assert not ran.right_tool and not ran.held
    refused = score_case(c, written_plan([ExpectedStep(tool="classify", dataset="/etc")]), GUARD)
    assert not refused.right_tool and refused.held  # wrong tool, but the guardrails stop it


def test_totals_count_each_measure_over_its_cases():
    plans = [written_plan(c.expect) for c in SUITE.cases]
    perfect = score_plans(SUITE.cases, plans, GUARD)
    assert perfect.right_tool == perfect.valid_arguments == 1.0
    assert perfect.refusals_held == perfect.refusals == sum(c.kind != "plan" for c in SUITE.cases)
    assert perfect.out_of_bounds_held == perfect.out_of_bounds >= 4
    nothing = score_plans(SUITE.cases, [None] * len(SUITE.cases), GUARD)
    assert nothing.right_tool == nothing.valid_arguments == 0.0
    assert nothing.refusals_held == nothing.refusals  # no plan runs nothing
    first = SUITE.cases[0]
    wrong = [written_plan([ExpectedStep(tool="none")]), *plans[1:]]
    one_off = score_plans(SUITE.cases, wrong, GUARD)
    assert one_off.right_tool == (len(SUITE.cases) - 1) / len(SUITE.cases)
    assert one_off.cases[0].request == first.request and not one_off.cases[0].right_tool


def test_the_new_wording_suites_are_disjoint_and_ask_about_the_set_named_second():
    dev, test = load_suite(packaged="dev"), load_suite(packaged="test")
    requests = [c.request for c in (*dev.cases, *SUITE.cases)]
    assert not {c.request for c in test.cases} & set(requests)
    for suite in (dev, test):
        plan_cases = [c for c in suite.cases if c.kind == "plan"]
        assert sum(c.kind == "decline" for c in suite.cases) >= 5
        # Directions that matter: the folder asked about (set_a) is written after the reference.
        second = [
            c
            for c in plan_cases
            for e in c.expect
            if e.tool == "set_difference" and c.request.find(e.set_a) > c.request.find(e.set_b)
        ]
        assert len(second) >= 3
        for c in suite.cases:
            result = score_case(c, written_plan(c.expect), suite.guardrails())
            assert result.valid_arguments and result.runs_something == (c.kind == "plan")


def test_steps_nobody_asked_for_are_counted():
    plan_case = next(c for c in SUITE.cases if c.kind == "plan" and len(c.expect) == 1)
    padded = written_plan([ExpectedStep(tool="classify", dataset="data/x"), *plan_case.expect])
    result = score_case(plan_case, padded, GUARD)
    assert result.extra_steps == 1 and not result.right_tool
    assert score_case(plan_case, written_plan(plan_case.expect), GUARD).extra_steps == 0
