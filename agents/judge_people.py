"""How often a judge agrees with people on real truths ("Dogs playing in a park vs Cats...").

People labelled proposed differences 0 / 1 / 2 (no, partial, full credit; VisDiff's 0, 0.5, 1).
The labels come in set pairs, so the pairs are split, never the rows: a rule or threshold chosen
on one pair's hypotheses must not be scored on that pair. ``split_pairs`` holds out a fixed third
of the pairs to report on, and everything that is fitted (the no-LLM baseline's thresholds,
prompts, rules) is fitted on the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel

from .judge import Embed, JudgeRule, judge, score_parse, whole_parse
from .llm import LLM, LLMOutputError

Label = Literal[0, 1, 2]
SCORE_TO_LABEL: dict[float, Label] = {0.0: 0, 0.5: 1, 1.0: 2}
HELD_EVERY = 3  # every third pair, in name order, is held out to report on


class HumanLabel(BaseModel):
    """One hypothesis said of set A, the truth's two sides, and a person's label."""

    hypothesis: str
    group_a: str
    group_b: str
    manual_label: Label

    @property
    def pair(self) -> str:
        return f"{self.group_a} vs {self.group_b}"


def read_labels(path: Path) -> list[HumanLabel]:
    """The labelled hypotheses of a JSON-lines file (``shared/data/judge_labels``)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [HumanLabel.model_validate_json(line) for line in lines if line.strip()]


def split_pairs(labels: Sequence[HumanLabel]) -> tuple[list[HumanLabel], list[HumanLabel]]:
    """(tune, held): every HELD_EVERY-th set pair in name order is held out, whole."""
    pairs = sorted({label.pair for label in labels})
    held = set(pairs[HELD_EVERY - 1 :: HELD_EVERY])
    return [x for x in labels if x.pair not in held], [x for x in labels if x.pair in held]


def agreement(predicted: Sequence[int | None], labels: Sequence[HumanLabel]) -> float:
    """Share of labels a judge gave exactly (no answer counts as a disagreement)."""
    same = sum(p == label.manual_label for p, label in zip(predicted, labels, strict=True))
    return same / max(len(labels), 1)


class EmbeddingJudge(BaseModel):
    """The no-LLM baseline: how much closer a hypothesis is to set A's side than to B's (0 below
    ``margin``), and how close to A's side (2 from ``full`` up, else 1), by sentence embedding."""

    margin: float
    full: float

    def labels(self, features: np.ndarray) -> list[Label]:
        """Labels for rows of (similarity to A's side, to B's side)."""
        to_a, to_b = features[:, 0], features[:, 1]
        return [
            0 if a - b < self.margin else (2 if a >= self.full else 1)
            for a, b in zip(to_a, to_b, strict=True)
        ]


def embedding_features(
    labels: Sequence[HumanLabel], embed: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """Rows of (cosine to set A's truth, cosine to set B's truth), embeddings L2-normalised."""
    hypotheses = embed([x.hypothesis.strip(' "') for x in labels])
    side_a, side_b = embed([x.group_a for x in labels]), embed([x.group_b for x in labels])
    return np.stack([(hypotheses * side_a).sum(1), (hypotheses * side_b).sum(1)], axis=1)


def fit_embedding_judge(features: np.ndarray, labels: Sequence[HumanLabel]) -> EmbeddingJudge:
    """The thresholds that agree with people most often on ``labels`` (a grid over the
    features' own quantiles; the first best pair wins, so the fit is deterministic)."""
    margins = np.quantile(features[:, 0] - features[:, 1], np.linspace(0, 1, 41))
    fulls = np.quantile(features[:, 0], np.linspace(0, 1, 41))
    best, best_score = None, -1.0
    for margin, full in product(margins, fulls):
        candidate = EmbeddingJudge(margin=float(margin), full=float(full))
        score = agreement(candidate.labels(features), labels)
        if score > best_score:
            best, best_score = candidate, score
    return best


class LLMVerdict(BaseModel):
    label: HumanLabel
    predicted: Label | None  # None: the LLM gave no valid answer
    reason: str


def llm_verdicts(
    llm: LLM, labels: Sequence[HumanLabel], embed: Embed, rule: JudgeRule | None = None
) -> list[LLMVerdict]:
    """The LLM judge's answer for each hypothesis, said of set A, as a 0 / 1 / 2 label."""
    verdicts = []
    for label in labels:
        try:
            verdict = judge(llm, label.hypothesis.strip(' "'), "A", label.pair, embed, rule)
            predicted, reason = SCORE_TO_LABEL[verdict.score], verdict.reason
        except LLMOutputError as error:
            predicted, reason = None, error.reason
        verdicts.append(LLMVerdict(label=label, predicted=predicted, reason=reason))
    return verdicts


def rule_labels(
    labels: Sequence[HumanLabel], embed: Embed, rule: JudgeRule | None = None
) -> list[Label]:
    """The judge's rule with no LLM: each whole hypothesis read as one thing (the baseline that
    says what the LLM's parse adds)."""
    return [
        SCORE_TO_LABEL[
            score_parse(
                whole_parse(x.hypothesis.strip(' "')), x.hypothesis, "A", x.pair, embed, rule
            ).score
        ]
        for x in labels
    ]


def majority_label(labels: Sequence[HumanLabel]) -> Label:
    """The commonest label: the judge that always says it is the floor to beat."""
    counts = np.bincount([x.manual_label for x in labels], minlength=3)
    return int(np.argmax(counts))  # type: ignore[return-value]
