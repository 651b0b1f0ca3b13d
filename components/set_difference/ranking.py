"""Rank set-difference hypotheses by how well CLIP separates image set A from image set B.

One matrix product per set scores every image against every hypothesis; then per hypothesis:
AUROC of the favoured set over the other (bootstrap CI), mean difference, one-sided Welch test,
its p-value adjusted for testing all hypotheses at once (Holm by default).

A CLIP can score one set's images higher on *every* text (brighter photos, another camera, images
the model does not know): that shift is a property of the images, not of any hypothesis, yet it
makes every phrase that favours that set look significant. Given reference texts (the captioning
vocabulary), each image's scores are centred on its mean score over them before ranking, and
:func:`set_shift` measures the shift that was removed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field
from scipy import stats
from sklearn.metrics import roc_auc_score

from clipflows.components.errors import EmptyInputError
from clipflows.components.set_difference import defaults

Direction = Literal["A", "B"]
Correction = Literal["holm", "bh", "bonferroni", "none"]
CI_LEVEL = 0.95
SHOWN_IMAGES = 4
_CHUNK_ELEMENTS = 4_000_000  # bounds the bootstrap's working arrays (about 32 MB each)
# A ranking where at least this share of (at least SHIFT_MIN_PHRASES) phrases score higher in one
# set before centring is reported as a shift of that set's scores.
SHIFT_SHARE = 0.9
SHIFT_MIN_PHRASES = 10


class Hypothesis(BaseModel, frozen=True):
    """A phrase said to be more true of one set ("A" or "B") than of the other."""

    text: str
    direction: Direction


class HypothesisScore(Hypothesis):
    """How well a hypothesis separates the sets, and which images match it best and worst.

    ``p_value`` is the Welch test's own; ``p_adjusted`` is corrected for the number of hypotheses
    ranked together (``RankerConfig.correction``), and ``significant == p_adjusted < alpha``
    always holds. A nan p-value (no variance to test) is never significant: "not testable".
    """

    auroc: float
    auroc_low: float
    auroc_high: float
    mean_difference: float
    t_statistic: float
    p_value: float
    p_adjusted: float
    significant: bool
    top_a: list[int] = Field(default_factory=list)
    bottom_a: list[int] = Field(default_factory=list)
    top_b: list[int] = Field(default_factory=list)
    bottom_b: list[int] = Field(default_factory=list)


class RankerConfig(BaseModel):
    """Significance level, bootstrap resamples (0: no CI), their seed, multiple-test correction,
    and the fewest readable images a set needs for the test to mean anything."""

    alpha: float = Field(default=defaults.ALPHA, gt=0, lt=1)
    bootstrap: int = Field(default=200, ge=0)
    seed: int = 0
    correction: Correction = Field(
        default=defaults.CORRECTION,
        description=(
            "How p-values are adjusted for ranking many hypotheses at once: 'holm' (family-wise "
            "error, valid however the hypotheses' CLIP scores correlate), 'bh' (Benjamini-"
            "Hochberg false discovery rate: more findings, assumes positive dependence), "
            "'bonferroni', or 'none' (each p-value on its own: most of a large vocabulary "
            "passes by chance)."
        ),
    )
    # One image has no variance, so no test, and an AUROC of 0 or 1 that it alone decides.
    # Welch's test estimates each set's variance: 2 images give it a single degree of freedom
    # (the p-value then rests on one difference), 3 is the fewest that give it two.
    min_images: int = Field(default=3, ge=2)
    centre: bool = Field(
        default=True,
        description="Centre each image's scores on its mean score over the reference texts "
        "before ranking, so a shift of one set's scores across every text is not read as a "
        "difference (no effect without reference texts).",
    )


class SetShift(BaseModel):
    """How far one set's images score higher on every text at once, before any centring."""

    higher: Direction  # the set whose images score higher on most phrases
    leaning: int  # phrases whose mean score is higher in that set
    phrases: int  # the distinct texts ranked (a phrase proposed for both sets counts once)
    mean_shift: float  # mean over the reference texts of (that set's mean score - the other's)
    centred: bool  # whether the ranking removed it

    @property
    def one_sided(self) -> bool:
        return self.phrases >= SHIFT_MIN_PHRASES and self.leaning >= SHIFT_SHARE * self.phrases

    def note(self) -> str | None:
        """The report's sentence about the shift, when nearly every hypothesis leans one way."""
        if not self.one_sided:
            return None
        what = (
            "removed before ranking: each image's scores are centred on its mean over the "
            "vocabulary"
            if self.centred
            else "NOT removed: every phrase that favours that set looks like a difference"
        )
        return (
            f"{self.leaning} of {self.phrases} phrases score higher in set {self.higher} "
            f"before centring: set {self.higher}'s images score higher on every text (by "
            f"{self.mean_shift:.3f} on average), a property of the images, not of any "
            f"hypothesis; {what}."
        )


def set_shift(
    images_a: np.ndarray,
    images_b: np.ndarray,
    phrase_vectors: np.ndarray,
    reference_vectors: np.ndarray,
    centred: bool,
) -> SetShift:
    """Which set scores higher on most of the distinct phrases ranked, before centring, and by
    how much on the reference texts (all rows L2-normalised)."""
    raw = np.asarray(images_a) @ np.asarray(phrase_vectors).T
    raw_b = np.asarray(images_b) @ np.asarray(phrase_vectors).T
    higher_in_b = int((raw_b.mean(0) > raw.mean(0)).sum())
    higher: Direction = "B" if 2 * higher_in_b > len(phrase_vectors) else "A"
    reference = np.asarray(reference_vectors).T
    shift = float((images_b @ reference).mean() - (images_a @ reference).mean())
    return SetShift(
        higher=higher,
        leaning=higher_in_b if higher == "B" else len(phrase_vectors) - higher_in_b,
        phrases=len(phrase_vectors),
        mean_shift=shift if higher == "B" else -shift,
        centred=centred,
    )


def check_testable(
    n_a: int, n_b: int, config: RankerConfig, labels: tuple[str, str] = ("Set A", "Set B")
) -> None:
    """Refuse sets too small to test a difference, naming the set and how many it needs."""
    for label, count in ((labels[0], n_a), (labels[1], n_b)):
        if count < config.min_images:
            raise EmptyInputError(
                f"{label} has {count} readable image{'s' * (count != 1)}; telling the sets "
                f"apart needs at least {config.min_images} in each (RankerConfig.min_images). "
                "Add images to it."
            )


def adjust_p_values(p_values: np.ndarray, method: Correction) -> np.ndarray:
    """p-values adjusted for testing them together; nan (untestable) stays nan and counts as 1."""
    p = np.asarray(p_values, dtype=np.float64)
    finite = np.where(np.isnan(p), 1.0, p)
    if method == "holm":
        adjusted = _holm(finite)
    elif method == "bh":
        adjusted = stats.false_discovery_control(finite, method="bh") if p.size else finite
    elif method == "bonferroni":
        adjusted = np.minimum(1.0, finite * p.size)
    else:
        adjusted = finite
    return np.where(np.isnan(p), np.nan, adjusted)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment. Written here because scipy has none (its
    false_discovery_control is BH/BY only) and statsmodels would be a dependency for six lines:
    the k-th smallest p-value is multiplied by (m - k + 1), then made non-decreasing."""
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(1.0, stepped)
    return adjusted


def p_text(p: float) -> str:
    """A p-value for people and prompts; nan (no variance to test) reads "not testable"."""
    return "not testable" if np.isnan(p) else f"{p:.2g}"


def rank_hypotheses(
    images_a: np.ndarray,
    images_b: np.ndarray,
    hypotheses: Sequence[Hypothesis],
    hypothesis_vectors: np.ndarray,
    config: RankerConfig | None = None,
    reference_vectors: np.ndarray | None = None,
) -> list[HypothesisScore]:
    """Score every hypothesis over all images of both sets; best AUROC first.

    Inputs are L2-normalised embeddings: ``images_a`` [n_a, d], ``images_b`` [n_b, d],
    ``hypothesis_vectors`` [len(hypotheses), d], and optionally ``reference_vectors`` [r, d],
    the texts each image's scores are centred on (``RankerConfig.centre``). Use
    ``filter_significant`` to drop the rest.
    """
    config = config or RankerConfig()
    a, b, vectors = _checked(images_a, images_b, hypotheses, hypothesis_vectors)
    check_testable(len(a), len(b), config)
    if not hypotheses:
        return []
    scores_a = np.asarray(a @ vectors.T, dtype=np.float64)  # [n_a, h] cosines
    scores_b = np.asarray(b @ vectors.T, dtype=np.float64)  # [n_b, h]
    if config.centre and reference_vectors is not None and len(reference_vectors):
        reference = np.asarray(reference_vectors, dtype=np.float64).T
        scores_a -= (a @ reference).mean(1, keepdims=True)
        scores_b -= (b @ reference).mean(1, keepdims=True)
    favours_a = np.array([h.direction == "A" for h in hypotheses])
    auroc = _auroc(scores_a, scores_b, favours_a)
    low, high = _bootstrap_ci(scores_a, scores_b, favours_a, config)
    mean_difference = np.where(favours_a, 1.0, -1.0) * (scores_a.mean(0) - scores_b.mean(0))
    t_statistic, p_value = _welch(scores_a, scores_b, favours_a)
    p_adjusted = adjust_p_values(p_value, config.correction)
    (top_a, bottom_a), (top_b, bottom_b) = _extremes(scores_a), _extremes(scores_b)
    ranked = [
        HypothesisScore(
            text=h.text,
            direction=h.direction,
            auroc=auroc[k],
            auroc_low=low[k],
            auroc_high=high[k],
            mean_difference=mean_difference[k],
            t_statistic=t_statistic[k],
            p_value=p_value[k],
            p_adjusted=p_adjusted[k],
            significant=bool(p_adjusted[k] < config.alpha),
            top_a=top_a[k],
            bottom_a=bottom_a[k],
            top_b=top_b[k],
            bottom_b=bottom_b[k],
        )
        for k, h in enumerate(hypotheses)
    ]
    return sorted(ranked, key=lambda s: s.auroc, reverse=True)


def filter_significant(scores: Sequence[HypothesisScore]) -> list[HypothesisScore]:
    """Only the significant hypotheses (adjusted p < alpha), order kept: VisDiff's p-value
    filter, corrected for the number of hypotheses tested."""
    return [s for s in scores if s.significant]


def significant_first(scores: Sequence[HypothesisScore]) -> list[HypothesisScore]:
    """The significant hypotheses, then the rest, each group in the order given (best AUROC
    first from ``rank_hypotheses``): what reports and pages show as the ranking."""
    return filter_significant(scores) + [s for s in scores if not s.significant]


def best_auroc(scores: Sequence[HypothesisScore]) -> float:
    """The highest AUROC of a ranking; 0.5 (chance) for an empty one."""
    return max((s.auroc for s in scores), default=0.5)


def resampled_auroc(
    scores_a: np.ndarray, scores_b: np.ndarray, counts_a: np.ndarray, counts_b: np.ndarray
) -> np.ndarray:
    """AUROC of A over B for each resample [r, h], given how often each image is drawn [r, n].

    Weighted Mann-Whitney U: for each A image, the drawn B images scoring below it (ties count
    half) are read from a cumulative count over the B scores, sorted once per hypothesis.
    """
    (n_a, h), n_b = scores_a.shape, len(scores_b)
    order = np.argsort(scores_b, axis=0)  # [n_b, h]
    below = _count_below(scores_a, scores_b, "min")  # [1, n_a, h]
    at_most = _count_below(scores_a, scores_b, "max")
    result = np.empty((len(counts_a), h))
    step = max(1, _CHUNK_ELEMENTS // ((n_a + n_b + 1) * h))
    for start in range(0, len(counts_a), step):
        drawn_a, drawn_b = counts_a[start : start + step], counts_b[start : start + step]
        cumulative = np.zeros((len(drawn_b), n_b + 1, h))  # drawn B among the k lowest B scores
        np.cumsum(drawn_b[:, order], axis=1, out=cumulative[:, 1:])
        wins = np.take_along_axis(cumulative, below, axis=1)
        wins += 0.5 * (np.take_along_axis(cumulative, at_most, axis=1) - wins)
        pairs = drawn_a.sum(1, keepdims=True) * drawn_b.sum(1, keepdims=True)
        result[start : start + step] = np.einsum("ri,rih->rh", drawn_a, wins) / pairs
    return result


def _count_below(scores_a: np.ndarray, scores_b: np.ndarray, method: str) -> np.ndarray:
    """How many B scores lie below each A score ("max": ties included), [1, n_a, h]."""
    combined = stats.rankdata(np.vstack([scores_a, scores_b]), method, axis=0)[: len(scores_a)]
    return (combined - stats.rankdata(scores_a, method, axis=0)).astype(np.intp)[None]


def _checked(images_a, images_b, hypotheses, hypothesis_vectors):
    """Arrays of the right shapes, or an error naming the set or the shapes that are wrong."""
    a, b = np.asarray(images_a), np.asarray(images_b)
    for name, x in (("A", a), ("B", b)):
        if x.ndim >= 1 and x.shape[0] == 0:
            raise EmptyInputError(f"Image set {name} is empty (shape {x.shape}); give it images.")
        if x.ndim != 2:
            raise ValueError(f"Set {name} embeddings must be [n, d]; got shape {x.shape}.")
    vectors = np.asarray(hypothesis_vectors)
    expected = (len(hypotheses), a.shape[1])
    if a.shape[1] != b.shape[1] or (vectors.shape != expected and (hypotheses or vectors.size)):
        raise ValueError(
            f"Shapes do not match: set A {a.shape}, set B {b.shape}, hypothesis vectors "
            f"{vectors.shape} (expected {expected} for {len(hypotheses)} hypotheses)."
        )
    return a, b, vectors


def _auroc(scores_a, scores_b, favours_a) -> np.ndarray:
    """sklearn's AUROC per hypothesis, the favoured set being the positive class."""
    in_a = np.r_[np.ones(len(scores_a), bool), np.zeros(len(scores_b), bool)][:, None]
    positive = np.where(favours_a[None], in_a, ~in_a).astype(int)
    return np.atleast_1d(roc_auc_score(positive, np.vstack([scores_a, scores_b]), average=None))


def _bootstrap_ci(scores_a, scores_b, favours_a, config) -> np.ndarray:
    """Percentile CI [2, h] of the AUROC, resampling each set with replacement (nan: 0 resamples)."""
    if config.bootstrap == 0:
        return np.full((2, scores_a.shape[1]), np.nan)
    rng = np.random.default_rng(config.seed)
    n_a, n_b = len(scores_a), len(scores_b)
    counts_a = rng.multinomial(n_a, np.full(n_a, 1 / n_a), size=config.bootstrap)
    counts_b = rng.multinomial(n_b, np.full(n_b, 1 / n_b), size=config.bootstrap)
    resampled = resampled_auroc(scores_a, scores_b, counts_a, counts_b)
    resampled[:, ~favours_a] = 1.0 - resampled[:, ~favours_a]
    tail = (1 - CI_LEVEL) / 2
    return np.quantile(resampled, [tail, 1 - tail], axis=0)


def _welch(scores_a, scores_b, favours_a) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Welch t-test, favoured set > other set, for every hypothesis at once."""
    with warnings.catch_warnings():
        # Constant scores (no variance) give nan, never significant; scipy warns about them.
        warnings.simplefilter("ignore", RuntimeWarning)
        a_over_b = stats.ttest_ind(scores_a, scores_b, equal_var=False, alternative="greater")
        b_over_a = stats.ttest_ind(scores_b, scores_a, equal_var=False, alternative="greater")
    t = np.where(favours_a, a_over_b.statistic, b_over_a.statistic)
    return t, np.where(favours_a, a_over_b.pvalue, b_over_a.pvalue)


def _extremes(scores: np.ndarray) -> tuple[list[list[int]], list[list[int]]]:
    """Per hypothesis, the indices of the best and the worst matching images (best/worst first)."""
    top = np.argsort(-scores, axis=0, kind="stable")[:SHOWN_IMAGES]
    bottom = np.argsort(scores, axis=0, kind="stable")[:SHOWN_IMAGES]
    return top.T.tolist(), bottom.T.tolist()
