"""How often an LLM judge agrees with the strict keyword judge on the world's known cases."""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import BaseModel

from clipflows.components.sentence import SentenceEncoder
from clipflows.components.settings import Settings
from clipflows.components.world.judge_cases import JudgeCase, judge_cases

from .judge import Embed, judge
from .llm import LLM, LLMOutputError, create_llm


class JudgedCase(BaseModel):
    """One case with the LLM judge's verdict (None when it gave no valid answer)."""

    case: JudgeCase
    score: float | None
    reason: str


class JudgeAgreement(BaseModel):
    """Agreement of an LLM judge with the strict labels: exact score, and full credit or not."""

    model: str
    cases: int
    agreement: float  # share of cases with the same score (0, 0.5 or 1)
    full_credit_agreement: float  # share where both give 1, or both give less than 1
    invalid: int  # cases the LLM gave no valid verdict for (counted as disagreeing)
    wall_seconds: float
    llm_calls: int  # real model calls (cache hits do not count)
    judged: list[JudgedCase]


def evaluate_judge(
    settings: Settings,
    cases: Sequence[JudgeCase] | None = None,
    llm: LLM | None = None,
    embed: Embed | None = None,
) -> JudgeAgreement:
    """Judge every case (the world's 66 by default) with the LLM that ``settings`` name (or the
    loaded ``llm`` given) and compare with the strict keyword judge's labels."""
    cases = list(judge_cases() if cases is None else cases)
    llm = llm or create_llm(settings)
    embed = embed or SentenceEncoder(settings).encode_texts
    start = time.perf_counter()
    judged = []
    for case in cases:
        try:
            verdict = judge(llm, case.hypothesis, case.direction, case.truth, embed)
            judged.append(JudgedCase(case=case, score=verdict.score, reason=verdict.reason))
        except LLMOutputError as error:
            judged.append(JudgedCase(case=case, score=None, reason=error.reason))
    seconds = time.perf_counter() - start
    same = sum(j.score == j.case.expected for j in judged)
    full = sum(j.score is not None and (j.score == 1) == (j.case.expected == 1) for j in judged)
    total = max(len(judged), 1)
    return JudgeAgreement(
        model=llm.identity,
        cases=len(judged),
        agreement=same / total,
        full_credit_agreement=full / total,
        invalid=sum(j.score is None for j in judged),
        wall_seconds=round(seconds, 1),
        llm_calls=llm.calls,
        judged=judged,
    )
