"""The LLM's checks of its own plan (agents/plan_check.py, planner.check_plan), with scripted
answers: a step whose tool does not fit is declined, a difference's folders are swapped only
when both orders of asking agree, and a check with no valid answer leaves the step as planned."""

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from clipflows.agents.llm import LLM
from clipflows.agents.planner import Plan, check_plan

YES, NO = '{"answer": "yes"}', '{"answer": "no"}'
FIRST, SECOND = '{"folder": "first"}', '{"folder": "second"}'


def _scripted(*answers: str) -> LLM:
    return LLM(chat_model=FakeListChatModel(responses=list(answers)), identity="fake", sampling={})


def _plan(*steps: dict) -> Plan:
    return Plan.model_validate({"steps": list(steps)})


DIFFERENCE = {"tool": "set_difference", "asked_about": "data/a", "reference": "data/b"}
CLASSIFY = {"tool": "classify", "dataset": "data/c", "context": "cars"}


def test_a_step_whose_tool_does_not_fit_is_declined_and_the_rest_stay():
    planned = _plan(CLASSIFY, DIFFERENCE)
    # classify: no; set_difference: yes, then "data/a" asked about in both orders.
    checked = check_plan(_scripted(NO, YES, FIRST, SECOND), "count cars, then a vs b", planned)
    declined, difference = checked.steps
    assert declined.tool == "none" and "classify" in declined.reason
    assert (difference.set_a, difference.set_b) == ("data/a", "data/b")


def test_the_folders_swap_only_when_both_orders_of_asking_agree():
    request = "with data/a as the baseline, what's special about data/b?"
    [swapped] = check_plan(_scripted(YES, SECOND, FIRST), request, _plan(DIFFERENCE)).steps
    assert (swapped.set_a, swapped.set_b) == ("data/b", "data/a")
    # "first" both times names a different folder each time: no verdict, the plan stands.
    [kept] = check_plan(_scripted(YES, FIRST, FIRST), request, _plan(DIFFERENCE)).steps
    assert (kept.set_a, kept.set_b) == ("data/a", "data/b")


def test_a_check_without_a_valid_answer_leaves_the_step_as_planned():
    planned = _plan(DIFFERENCE)
    [step] = check_plan(_scripted(*["not json"] * 10), "a vs b", planned).steps
    assert step == planned.steps[0]


def test_declines_are_not_asked_about():
    planned = _plan({"tool": "none", "reason": "booking is no tool's"})
    assert check_plan(_scripted(), "book a table", planned) == planned
