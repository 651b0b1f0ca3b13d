"""FuDD's second pass and the fusion of both passes.

Second pass (as in the paper): for each image, each class in its ambiguity set is represented by
the mean of the normalised embeddings of its descriptions from every pair inside that set
(deduplicated), renormalised; the image goes to the closest class. The paper then discards the
first pass; ``fuse`` keeps both, each calibrated by a temperature fitted on labelled data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from clipflows.components.classification.descriptions import DescriptionBook
from clipflows.components.clip.zeroshot import normalise_rows

Encode = Callable[[list[str]], np.ndarray]


def occurring_pairs(sets: np.ndarray) -> list[tuple[int, int]]:
    """Every unordered class pair that shares some image's ambiguity set: the only pairs FuDD
    asks the LLM to describe."""
    return sorted(
        {(int(min(a, b)), int(max(a, b))) for row in sets for a in row for b in row if a != b}
    )


def second_pass_scores(
    image_vectors: np.ndarray,
    sets: np.ndarray,
    book: DescriptionBook,
    encode: Encode,
    fallback: np.ndarray,
) -> np.ndarray:
    """Cosine of each image to each class of its ambiguity set, from differential descriptions.

    ``sets`` is [n, k] class indices; ``fallback`` [n_classes, d] stands in for a class that has
    no description in that set (a pair the LLM could not describe). Returns [n, k].
    """
    texts = sorted(
        {
            t
            for entries in book.pairs.values()
            for e in entries
            for t in (e.description_a, e.description_b)
        }
    )
    row = {text: i for i, text in enumerate(texts)}
    embedded = encode(texts) if texts else np.zeros((0, fallback.shape[1]), np.float32)
    scores = np.empty(sets.shape, np.float32)
    groups: dict[frozenset[int], list[int]] = {}
    for image, members in enumerate(sets):
        groups.setdefault(frozenset(members.tolist()), []).append(image)
    for members, images in groups.items():
        vectors = {c: _class_vector(c, members, book, row, embedded, fallback) for c in members}
        for image in images:
            classes = sets[image]
            matrix = np.stack([vectors[c] for c in classes])
            scores[image] = matrix @ image_vectors[image]
    return scores


def _class_vector(
    cls: int,
    members: frozenset[int],
    book: DescriptionBook,
    row: dict[str, int],
    embedded: np.ndarray,
    fallback: np.ndarray,
) -> np.ndarray:
    descriptions = {
        text for other in members if other != cls for text in book.descriptions_of(cls, other)[0]
    }
    if not descriptions:
        return fallback[cls]
    mean = embedded[[row[t] for t in sorted(descriptions)]].mean(axis=0)
    return mean / np.linalg.norm(mean)


def description_class_vectors(
    descriptions: Sequence[Sequence[str]], encode: Encode, fallback: np.ndarray
) -> np.ndarray:
    """One vector per class: the renormalised mean of its (generic) descriptions' embeddings."""
    vectors = fallback.copy()
    for cls, texts in enumerate(descriptions):
        unique = sorted(set(texts))
        if unique:
            vectors[cls] = encode(unique).mean(axis=0)
    return normalise_rows(vectors)


def positions_in_sets(sets: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Where each image's true class sits in its ambiguity set, or -1 if it fell outside."""
    hits = sets == labels[:, None]
    return np.where(hits.any(axis=1), hits.argmax(axis=1), -1)


def fit_temperature(scores: np.ndarray, positions: np.ndarray) -> float:
    """The softmax temperature (as a logit scale) that best fits the labelled rows (NLL)."""
    inside = positions >= 0
    if not inside.any():
        return 100.0
    rows, target = scores[inside], positions[inside]

    def nll(log_scale: float) -> float:
        logp = log_softmax(rows * np.exp(log_scale), axis=1)
        return float(-logp[np.arange(len(rows)), target].mean())

    best = minimize_scalar(nll, bounds=(np.log(1.0), np.log(1000.0)), method="bounded")
    return float(np.exp(best.x))


class FusionRule(BaseModel):
    """fused = (1 - weight) * log p_first + weight * log p_second, each with its own scale.

    weight 0 is the first pass alone, weight 1 the paper's rule (second pass alone).
    """

    weight: float
    first_scale: float = 100.0
    second_scale: float = 100.0

    def fuse(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        return (1 - self.weight) * log_softmax(first * self.first_scale, axis=1) + (
            self.weight * log_softmax(second * self.second_scale, axis=1)
        )


def choose_fusion(
    first: np.ndarray,
    second: np.ndarray,
    positions: np.ndarray,
    grid: Sequence[float] = tuple(np.round(np.linspace(0, 1, 21), 2)),
) -> FusionRule:
    """Calibrate both passes and pick the weight with the best accuracy on labelled rows.

    Ties go to the weight whose fused log-likelihood of the true class is higher, a smooth
    criterion that prefers confident correct answers.
    """
    first_scale = fit_temperature(first, positions)
    second_scale = fit_temperature(second, positions)
    best: tuple[float, float, float] | None = None
    inside = positions >= 0
    for weight in grid:
        rule = FusionRule(weight=float(weight), first_scale=first_scale, second_scale=second_scale)
        fused = rule.fuse(first, second)
        accuracy = float((fused.argmax(axis=1) == positions).mean())
        likelihood = (
            float(fused[inside][np.arange(inside.sum()), positions[inside]].mean())
            if inside.any()
            else 0.0
        )
        if best is None or (accuracy, likelihood) > best[:2]:
            best = (accuracy, likelihood, float(weight))
    assert best is not None
    return FusionRule(weight=best[2], first_scale=first_scale, second_scale=second_scale)


def scores_in_sets(scores: np.ndarray, sets: np.ndarray) -> np.ndarray:
    """[n, classes] scores -> [n, k]: each image's scores for the classes of its ambiguity set,
    in the set's order (the first pass as the second pass and the fusion see it)."""
    return np.take_along_axis(scores, sets, axis=1)


def chosen_in_sets(set_scores: np.ndarray, sets: np.ndarray) -> np.ndarray:
    """[n, k] scores over each image's ambiguity set -> the class index each image gets."""
    return sets[np.arange(len(sets)), set_scores.argmax(axis=1)]


@dataclass(frozen=True)
class PassPredictions:
    """The class each image gets from the first pass, FuDD's rule (the second pass alone) and
    the fused scores; after a follow-up, also FuDD's answer before it."""

    first: np.ndarray
    fudd: np.ndarray
    fused: np.ndarray
    before_follow_up: np.ndarray | None = None


def predict_passes(
    first_scores: np.ndarray,
    sets: np.ndarray,
    second: np.ndarray,
    fusion: FusionRule,
    before_follow_up: np.ndarray | None = None,
) -> PassPredictions:
    """Each method's class per image from the first pass's [n, classes] scores, the ambiguity
    sets and the second pass's [n, k] scores."""
    fused = fusion.fuse(scores_in_sets(first_scores, sets), second)
    return PassPredictions(
        first=first_scores.argmax(axis=1),
        fudd=chosen_in_sets(second, sets),
        fused=chosen_in_sets(fused, sets),
        before_follow_up=before_follow_up,
    )
