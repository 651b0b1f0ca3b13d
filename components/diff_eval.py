"""Scoring set-difference answers: Acc@1 and Acc@5 as in VisDiff, with every judgement kept."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel

# judge(hypothesis text, direction) -> (score in {0, 0.5, 1}, the judge's raw answer or reason)
JudgeFn = Callable[[str, str], tuple[float, str]]


class JudgedHypothesis(BaseModel):
    text: str
    direction: str
    score: float
    reason: str


class Evaluation(BaseModel):
    acc_at_1: float
    acc_at_5: float
    judged: list[JudgedHypothesis]


def evaluate(ranked: Sequence, judge: JudgeFn, top: int = 5) -> Evaluation:
    """Judge the ``top`` ranked hypotheses: Acc@1 = score of the first, Acc@5 = best of five."""
    judged = []
    for hypothesis in list(ranked)[:top]:
        score, reason = judge(hypothesis.text, hypothesis.direction)
        judged.append(
            JudgedHypothesis(
                text=hypothesis.text, direction=hypothesis.direction, score=score, reason=reason
            )
        )
    scores = [j.score for j in judged]
    return Evaluation(
        acc_at_1=scores[0] if scores else 0.0, acc_at_5=max(scores, default=0.0), judged=judged
    )


def keyword_judge(words_a: Sequence[str], words_b: Sequence[str]) -> JudgeFn:
    """A deterministic judge for sets with known attributes (the world): 1 when a hypothesis
    names a word true of the set it favours, 0 otherwise."""
    words = {"A": [w.lower() for w in words_a], "B": [w.lower() for w in words_b]}

    def judge(text: str, direction: str) -> tuple[float, str]:
        tokens = set(text.lower().replace("-", " ").split())
        hits = [w for w in words[direction] if set(w.split()) <= tokens]
        return (1.0, f"names {hits[0]!r}") if hits else (0.0, "names no true attribute")

    return judge
