"""Scoring set-difference answers: Acc@1 and Acc@5 as in VisDiff, with every judgement kept,
and a strict keyword judge for sets whose attributes are known."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

# judge(hypothesis text, direction) -> (score in {0, 0.5, 1}, the judge's raw answer or reason)
JudgeFn = Callable[[str, str], tuple[float, str]]


class JudgedHypothesis(BaseModel):
    text: str
    direction: str
    score: float
    reason: str


class Evaluation(BaseModel):
    """Acc@1 and Acc@5, or None for both with a ``judge_warning`` when the judge failed its
    sanity check (a judge that cannot say 0 must not report a score)."""

    acc_at_1: float | None
    acc_at_5: float | None
    judged: list[JudgedHypothesis]
    sanity: list[JudgedHypothesis] = Field(default_factory=list)  # the judge on known cases
    judge_warning: str | None = None


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


# Phrases from no image set we judge; the sanity check uses the first that shares no word with
# the truth (the first is the proposer prompt's own example, which a broken judge credited).
OFF_TOPIC = (
    "dogs playing in snow",
    "a bowl of soup on a table",
    "people riding bicycles in a city",
    "a sailboat on a calm lake",
)
_SMALL_WORDS = {"a", "an", "the", "of", "in", "on", "at", "and", "or", "vs", "with", "to", "is"}


class SanityCase(BaseModel):
    """A hypothesis whose right score is known whatever the sets: checks the judge itself."""

    text: str
    direction: str
    expected: float
    what: str


def split_truth(truth: str) -> tuple[str, str]:
    """A ground truth's two sides, what set A has and what set B has: from 'X vs Y', or
    VisDiffBench's 'Topic (X vs Y)' (each side then keeps the topic); a truth with one side
    says what set A has."""
    topic = re.fullmatch(r"\s*(.*?)\s*\((.+) vs (.+)\)\s*", truth)
    if topic:
        name, a, b = (part.strip() for part in topic.groups())
        return (f"{name}: {a}", f"{name}: {b}") if name else (a, b)
    a, separator, b = truth.partition(" vs ")
    if not separator:
        return truth.strip(), f"not {truth.strip()}"
    return a.strip(), b.strip()


def judge_sanity_cases(truth: str) -> list[SanityCase]:
    """What set A has, said of A (1) and of B (0), and an off-topic phrase that shares no word
    with the truth (0)."""
    truth_words = set(_words(truth)) - _SMALL_WORDS
    off_topic = next(
        (p for p in OFF_TOPIC if not (set(_words(p)) - _SMALL_WORDS) & truth_words), OFF_TOPIC[-1]
    )
    side_a = split_truth(truth)[0]
    return [
        SanityCase(text=side_a, direction="A", expected=1.0, what="the truth's set-A side"),
        SanityCase(text=side_a, direction="B", expected=0.0, what="the same, said of set B"),
        SanityCase(text=off_topic, direction="A", expected=0.0, what="an off-topic phrase"),
    ]


def sanity_warning(cases: Sequence[SanityCase], scores: Sequence[float]) -> str | None:
    """None when the judge scored every sanity case right; otherwise what it scored, and why
    its Acc@1/Acc@5 are not reported."""
    wrong = [(c, s) for c, s in zip(cases, scores, strict=True) if s != c.expected]
    if not wrong:
        return None
    found = "; ".join(
        f"{c.what} {c.text!r} (more true of {c.direction}): {s:g}, expected {c.expected:g}"
        for c, s in wrong
    )
    return (
        f"The judge failed its sanity check ({found}), so no Acc@1/Acc@5 is reported; "
        "use a larger LLM for judging."
    )


def checked(evaluation: Evaluation, cases: Sequence[SanityCase], judge: JudgeFn) -> Evaluation:
    """``evaluation`` with the judge's verdicts on the sanity cases, and without Acc@1/Acc@5
    (and with a warning saying why) when the judge got any of them wrong."""
    sanity = []
    for case in cases:
        score, reason = judge(case.text, case.direction)
        sanity.append(
            JudgedHypothesis(text=case.text, direction=case.direction, score=score, reason=reason)
        )
    warning = sanity_warning(cases, [j.score for j in sanity])
    update: dict = {"sanity": sanity}
    if warning:
        update |= {"acc_at_1": None, "acc_at_5": None, "judge_warning": warning}
    return evaluation.model_copy(update=update)


def _words(text: str) -> list[str]:
    """Lower-case words, hyphens and punctuation as spaces ('cherry-red' -> 'cherry', 'red')."""
    return "".join(c if c.isalnum() else " " for c in text.lower()).split()


def _names(words: list[str], phrase: str) -> bool:
    """Whether ``words`` contain ``phrase``'s words as a run."""
    wanted = _words(phrase)
    return any(words[i : i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1))


def strict_keyword_judge(
    true_words: dict[str, Sequence[str]], attribute_words: Sequence[str]
) -> JudgeFn:
    """A deterministic judge for sets with known attributes (the world): 1 for a hypothesis that
    names a word true of the set it favours and no other attribute value; 0.5 when it names a
    true word among others (a copied caption); 0 when it names none.

    ``true_words`` maps a direction ("A", "B") to the words that name its side's attribute;
    ``attribute_words`` are every word that names any attribute value of the world."""
    true = {direction: [w.lower() for w in words] for direction, words in true_words.items()}

    def judge(text: str, direction: str) -> tuple[float, str]:
        words = _words(text)
        hits = [w for w in true[direction] if _names(words, w)]
        covered = {t for hit in hits for t in _words(hit)}
        others = sorted(
            {
                w
                for w in attribute_words
                if w.lower() not in true[direction]
                and _names(words, w)
                and not set(_words(w)) <= covered
            }
        )
        if hits and not others:
            return 1.0, f"names {hits[0]!r} and nothing else"
        if hits:
            return 0.5, f"names {hits[0]!r}, but also {', '.join(map(repr, others[:3]))}"
        return 0.0, "names no true attribute"

    return judge
