"""The planner's no-LLM baseline: tools picked by keywords, paths taken in the order written.

It exists to be measured against (flows/assistant_eval.py): a planner that reads only verbs and
paths is what the LLM must beat on requests worded by situation rather than by command.
"""

from __future__ import annotations

import re

from .plan_paths import request_paths
from .planner import ClassifyCall, Decline, Plan, SetDifferenceCall, TrainClipCall

# Clause breaks a multi-step request is written with ("..., then ...", "...; ...").
_CLAUSES = re.compile(r"(?:,?\s+(?:and\s+)?then\s+|;\s*|\.\s+|,\s+and\s+(?:after that\s+)?)")
_TRAIN = re.compile(r"\b(train\w*|clip|model|learn\w*|teach\w*|fit)\b", re.IGNORECASE)
_CLASSIFY = re.compile(
    r"\b(classif\w*|class\w*|label\w*|sort\w*|categor\w*|which|species|type|kind)\b",
    re.IGNORECASE,
)
_CONTEXT_WORDS = 12


def _context(clause: str, paths: list[str]) -> str:
    """The clause's words without its paths: the baseline's guess at what the images show."""
    words = [w for w in clause.split() if not any(p in w for p in paths)]
    return " ".join(words[:_CONTEXT_WORDS])[:200]


def _clause_step(clause: str) -> SetDifferenceCall | ClassifyCall | TrainClipCall | None:
    paths = request_paths(clause)
    if len(paths) >= 2 and _TRAIN.search(clause):
        return TrainClipCall(tool="train_clip", data=paths[0], output=paths[1])
    if len(paths) >= 2:
        return SetDifferenceCall(tool="set_difference", set_a=paths[0], set_b=paths[1])
    if len(paths) == 1 and _CLASSIFY.search(clause):
        return ClassifyCall(tool="classify", dataset=paths[0], context=_context(clause, paths))
    return None


def keyword_plan(request: str) -> Plan:
    """A plan from keywords and paths alone; a request with no recognisable step is declined."""
    steps = [s for s in map(_clause_step, _CLAUSES.split(request)) if s is not None]
    if not steps:
        whole = _clause_step(request)
        steps = [whole] if whole else []
    if not steps:
        return Plan(steps=[Decline(tool="none", reason="no tool's keywords and paths found")])
    return Plan(steps=steps[:3])
