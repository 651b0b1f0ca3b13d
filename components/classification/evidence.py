"""Whether a classification result says anything: accuracy against chance, and predictions that
collapse onto one class.

A test split of a few dozen images makes every accuracy noisy, so each one gets a 95% Wilson
interval and is compared with the better of two ways to score without looking: guessing
(1 / classes) and always answering the split's most common class. A model that does not know the
images often answers one class for nearly all of them; that is said apart, since it can happen
at any accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel
from scipy.stats import binomtest

# A method's predictions collapse when one class receives at least COLLAPSE_SHARE of its test
# predictions and at least COLLAPSE_RATIO times that class's true share of the test images:
# "29 of 30 images predicted Bengal" (97 % against 20 %) is flagged; a balanced two-class split
# answered 70/30 (70 % against 50 %) is not; answered 100/0 (twice the true share), it is.
COLLAPSE_SHARE = 0.5
COLLAPSE_RATIO = 2.0


class ChanceLevel(BaseModel):
    """What an accuracy on the test split must beat to mean anything."""

    classes: int
    chance: float  # 1 / classes: guessing
    majority_class: str
    majority: float  # the share of the test split's most common class: always answering it

    @property
    def floor(self) -> float:
        return max(self.chance, self.majority)

    def text(self) -> str:
        """'chance 20.0 % (5 classes); the most common class, Bengal, is 19.0 % of the test split'."""
        return (
            f"chance {self.chance:.1%} ({self.classes} classes); the most common class, "
            f"{self.majority_class}, is {self.majority:.1%} of the test split"
        )


def wilson_interval(correct: int, total: int) -> tuple[float, float]:
    """The 95% Wilson score interval of an accuracy of ``correct`` out of ``total``."""
    if total < 1 or not 0 <= correct <= total:
        raise ValueError(
            f"An accuracy needs 0 <= correct <= total and total >= 1, got {correct}/{total}."
        )
    interval = binomtest(correct, total).proportion_ci(confidence_level=0.95, method="wilson")
    return float(interval.low), float(interval.high)


def chance_level(truth: np.ndarray, class_names: Sequence[str]) -> ChanceLevel:
    """The chance rate and the majority-class rate of the test labels ``truth``."""
    if not len(truth):
        raise ValueError("The chance level needs at least one test image.")
    counts = np.bincount(truth, minlength=len(class_names))
    top = int(counts.argmax())
    return ChanceLevel(
        classes=len(class_names),
        chance=1 / len(class_names),
        majority_class=class_names[top],
        majority=float(counts[top] / len(truth)),
    )


def chance_warning(methods: Sequence[str], level: ChanceLevel) -> str | None:
    """One sentence naming the methods whose interval does not clear ``level.floor``."""
    if not methods:
        return None
    return (
        f"No better than chance: {', '.join(methods)}; each one's 95% interval reaches down to "
        f"{level.floor:.1%} or below (to beat: {level.text()})."
    )


def collapse_warnings(
    predictions: Mapping[str, np.ndarray], truth: np.ndarray, class_names: Sequence[str]
) -> list[str]:
    """One sentence per class that some methods' test predictions collapse onto (the rule above),
    naming those methods and the share of their predictions it got."""
    if not len(truth):
        return []
    true_share = np.bincount(truth, minlength=len(class_names)) / len(truth)
    onto: dict[int, list[str]] = {}
    for method, predicted in predictions.items():
        share = np.bincount(predicted, minlength=len(class_names)) / len(predicted)
        top = int(share.argmax())
        if share[top] >= COLLAPSE_SHARE and share[top] >= COLLAPSE_RATIO * true_share[top]:
            onto.setdefault(top, []).append(f"{share[top]:.0%} of the answers of {method}")
    return [
        f"Predictions collapse onto {class_names[c]!r}, {true_share[c]:.0%} of the "
        f"{len(truth)} test images: it got {', '.join(methods)}."
        for c, methods in onto.items()
    ]
