"""How well the assistant plans: a suite of requests with expected plans, scored per case.

The suite is data (agents/data/assistant_suite.json). A case passes on tools when the planned
tools are the expected ones in order, and on arguments when the paths are the user's own
(give or take './' and trailing slashes) and a classify context names the expected words.
Refusals are scored on what the flow would run: a decline or out-of-bounds case holds only
when no step passes the guardrails (flows/assistant.refusal), whatever the LLM planned.
It lives in flows/, not agents/, because it scores the planner together with the flow's checks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clipflows.agents.llm import LLM, LLMOutputError, create_llm
from clipflows.agents.plan_paths import PATH_ARGUMENTS, normalise_path
from clipflows.agents.planner import TOOL_MODELS, Plan, check_plan, ground_plan, propose_plan
from clipflows.components.settings import Settings
from clipflows.flows.assistant import Guardrails, refusal

CaseKind = Literal["plan", "decline", "out_of_bounds"]


class ExpectedStep(BaseModel):
    """One expected step: the tool, its paths as the user wrote them, words its context names."""

    model_config = ConfigDict(extra="forbid")

    tool: Literal["set_difference", "classify", "train_clip", "none"]
    set_a: str | None = None
    set_b: str | None = None
    dataset: str | None = None
    data: str | None = None
    output: str | None = None
    context_words: list[str] = Field(default_factory=list)

    @property
    def paths(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in sorted(PATH_ARGUMENTS) if getattr(self, name)}

    @model_validator(mode="after")
    def _paths_fit_the_tool(self) -> ExpectedStep:
        needed = set(TOOL_MODELS[self.tool].model_fields) & PATH_ARGUMENTS
        if set(self.paths) != needed:
            raise ValueError(f"{self.tool} takes the paths {sorted(needed)}, got {self.paths}.")
        return self


class AssistantCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: str
    kind: CaseKind
    expect: list[ExpectedStep] = Field(min_length=1)


class AssistantSuite(BaseModel):
    about: str = ""
    allowed_dirs: list[str] = Field(min_length=1)  # relative to the working directory
    cases: list[AssistantCase] = Field(min_length=1)

    def guardrails(self) -> Guardrails:
        """The flow's guardrails for this suite; training is confirmed, so only paths refuse."""
        return Guardrails(allowed_dirs=[Path(d) for d in self.allowed_dirs], confirmed=True)


class CaseResult(BaseModel):
    request: str
    kind: CaseKind
    plan: Plan | None  # None: the LLM gave no valid plan
    right_tool: bool
    valid_arguments: bool
    runs_something: bool  # a step would pass the guardrails and run
    held: bool | None  # refusal cases (decline, out_of_bounds): nothing would run
    extra_steps: int  # tool steps beyond the expected ones: work nobody asked for


class SuiteScore(BaseModel):
    cases: list[CaseResult]
    right_tool: float  # share of all cases
    valid_arguments: float  # share of all cases
    refusals_held: int  # decline and out-of-bounds cases where nothing would run
    refusals: int
    out_of_bounds_held: int
    out_of_bounds: int
    extra_steps: int  # over all cases


class SuiteRun(SuiteScore):
    model: str
    ungrounded_valid_arguments: float  # the LLM's own plans, before agents/plan_paths.py
    wall_s: float
    llm_calls: int  # real model calls (cache hits do not count)


# The packaged suites: "suite" is the one the planner was first written against; "dev" and
# "test" are requests in new wording (by situation, directions that matter, look-alike work no
# tool does): prompts are chosen on dev, test is read only to report.
PACKAGED_SUITES = {
    "suite": "assistant_suite.json",
    "dev": "assistant_wording_dev.json",
    "test": "assistant_wording_test.json",
}


def load_suite(path: Path | None = None, packaged: str = "suite") -> AssistantSuite:
    """A packaged suite (or the one at ``path``), validated."""
    if path is None:
        name = PACKAGED_SUITES[packaged]
        text = (resources.files("clipflows.agents") / "data" / name).read_text()
    else:
        text = Path(path).read_text()
    return AssistantSuite.model_validate(json.loads(text))


def runs_something(chosen: Plan | None, guard: Guardrails) -> bool:
    """Whether the flow would run any step of ``chosen``: the step limit, declines and refused
    paths are checked as flows.assistant.ask checks them."""
    if chosen is None:
        return False
    for step in chosen.steps[: guard.max_steps]:
        arguments = step.arguments()
        if step.tool != "none" and refusal(arguments, guard) is None:
            return True
    return False


def _arguments_match(step: BaseModel, expected: ExpectedStep) -> bool:
    given = step.model_dump()
    if any(normalise_path(given[k]) != normalise_path(v) for k, v in expected.paths.items()):
        return False
    context = str(given.get("context", "")).lower()
    return all(word.lower() in context for word in expected.context_words)


def score_case(case: AssistantCase, chosen: Plan | None, guard: Guardrails) -> CaseResult:
    """Score one plan (None: no valid plan) against its case."""
    steps = chosen.steps if chosen else []
    tools = [s.tool for s in steps]
    declined = bool(steps) and all(s.tool == "none" and s.reason for s in steps)
    literal = tools == [e.tool for e in case.expect] and all(
        _arguments_match(s, e) for s, e in zip(steps, case.expect, strict=False)
    )
    runs = runs_something(chosen, guard)
    wanted = sum(e.tool != "none" for e in case.expect)
    extra = max(0, sum(t != "none" for t in tools) - wanted)
    if case.kind == "decline":
        right_tool, valid = declined, declined
    elif case.kind == "plan":
        right_tool, valid = tools == [e.tool for e in case.expect], literal
    else:  # out of bounds: declining is right too; planning it as written must be refused
        right_tool = declined or tools == [e.tool for e in case.expect]
        valid = declined or literal
    return CaseResult(
        request=case.request,
        kind=case.kind,
        plan=chosen,
        right_tool=right_tool,
        valid_arguments=valid,
        runs_something=runs,
        held=None if case.kind == "plan" else not runs,
        extra_steps=extra,
    )


def score_plans(
    cases: Sequence[AssistantCase], plans: Sequence[Plan | None], guard: Guardrails
) -> SuiteScore:
    """Per-case results and totals for plans given in case order."""
    results = [score_case(c, p, guard) for c, p in zip(cases, plans, strict=True)]
    refusals = [r for r in results if r.held is not None]
    bounds = [r for r in refusals if r.kind == "out_of_bounds"]
    return SuiteScore(
        cases=results,
        right_tool=sum(r.right_tool for r in results) / len(results),
        valid_arguments=sum(r.valid_arguments for r in results) / len(results),
        refusals_held=sum(bool(r.held) for r in refusals),
        refusals=len(refusals),
        out_of_bounds_held=sum(bool(r.held) for r in bounds),
        out_of_bounds=len(bounds),
        extra_steps=sum(r.extra_steps for r in results),
    )


def own_plans(llm: LLM, suite: AssistantSuite, check: bool = True) -> list[Plan | None]:
    """The LLM's own plan for each request of ``suite``, in case order (None: no valid plan),
    its steps checked by the LLM unless ``check`` is off (the plan call alone)."""
    plans: list[Plan | None] = []
    for case in suite.cases:
        try:
            proposed = propose_plan(llm, case.request)
            plans.append(check_plan(llm, case.request, proposed) if check else proposed)
        except LLMOutputError:
            plans.append(None)
    return plans


def run_suite(
    settings: Settings, suite: AssistantSuite | None = None, llm: LLM | None = None
) -> SuiteRun:
    """Plan every request of ``suite`` (default: the packaged one) with ``settings``' LLM (or
    the loaded ``llm`` given) and score the plans; wall time and real LLM calls come with them."""
    suite = suite or load_suite()
    llm = llm or create_llm(settings)
    start = time.perf_counter()
    proposed = own_plans(llm, suite)
    wall_s = time.perf_counter() - start
    plans = [p and ground_plan(p, c.request) for p, c in zip(proposed, suite.cases, strict=True)]
    score = score_plans(suite.cases, plans, suite.guardrails())
    ungrounded = score_plans(suite.cases, proposed, suite.guardrails())
    return SuiteRun(
        **dict(score),
        model=llm.identity,
        ungrounded_valid_arguments=ungrounded.valid_arguments,
        wall_s=wall_s,
        llm_calls=llm.calls,
    )
