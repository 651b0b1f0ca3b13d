"""A classification result says when it is no better than chance, when its predictions collapse
onto one class, and how it was made (issue 24), on predictions whose answers are known."""

import numpy as np
import pytest
from pydantic import BaseModel

from clipflows.components.classification.evidence import (
    chance_level,
    chance_warning,
    collapse_warnings,
    wilson_interval,
)
from clipflows.components.classification.report import (
    first_pass_label,
    method_accuracies,
    method_rows,
    to_html,
    to_markdown,
)
from clipflows.components.classification.second_pass import FusionRule, PassPredictions
from clipflows.components.provenance import Provenance

NAMES = ["Abyssinian", "Bengal", "Birman", "Bombay", "Persian"]


def test_the_interval_is_scipys_wilson_interval():
    low, high = wilson_interval(4, 21)
    assert low == pytest.approx(0.0767, abs=1e-3) and high == pytest.approx(0.4002, abs=1e-3)
    with pytest.raises(ValueError, match="total >= 1"):
        wilson_interval(0, 0)


def test_chance_is_one_over_the_classes_and_the_majority_is_the_test_splits_commonest():
    level = chance_level(np.array([1, 1, 1, 0, 2, 3]), NAMES)
    assert level.chance == pytest.approx(0.2) and level.classes == 5
    assert level.majority_class == "Bengal" and level.majority == pytest.approx(0.5)
    assert level.floor == pytest.approx(0.5)


def _rows(predictions: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray, str]]:
    return [(method, predicted, "") for method, predicted in predictions.items()]


def test_an_accuracy_whose_interval_reaches_chance_is_flagged():
    """The issue's pets run: 4 of 21 right among 5 classes is 19 %, chance 20 %."""
    truth = np.arange(21) % 5
    near_chance = np.where(np.arange(21) < 4, truth, (truth + 1) % 5)
    good = np.where(np.arange(21) < 20, truth, (truth + 1) % 5)
    test = np.arange(21)
    level = chance_level(truth, NAMES)
    methods = method_accuracies(
        _rows({"one template": near_chance, "FuDD + fusion": good}), truth, test, level
    )
    assert [m.no_better_than_chance for m in methods] == [True, False]
    assert methods[0].correct == 4 and methods[0].total == 21
    assert methods[0].interval == pytest.approx(wilson_interval(4, 21))
    warning = chance_warning([m.method for m in methods if m.no_better_than_chance], level)
    assert warning.startswith("No better than chance: one template; each one's 95% interval")
    assert "(to beat: chance 20.0% (5 classes);" in warning
    assert chance_warning([], level) is None


def test_always_answering_the_majority_class_is_no_better_than_chance():
    """90 % accuracy, but 90 % of the test images are one class: nothing learned."""
    truth = np.array([0] * 90 + [1] * 10)
    level = chance_level(truth, ["cat", "dog"])
    methods = method_accuracies(
        _rows({"always cat": np.zeros(100, int)}), truth, np.arange(100), level
    )
    assert methods[0].accuracy == pytest.approx(0.9) and methods[0].no_better_than_chance


def test_predictions_collapsed_onto_one_class_are_named():
    """29 of 30 predicted Bengal, whose true share is 20 %."""
    truth = np.arange(30) % 5
    collapsed = np.ones(30, int)
    collapsed[0] = 0
    warnings = collapse_warnings({"one template": collapsed, "FuDD": truth}, truth, NAMES)
    assert warnings == [
        "Predictions collapse onto 'Bengal', 20% of the 30 test images: it got 97% of the "
        "answers of one template."
    ]


@pytest.mark.parametrize(
    "predicted_cats, collapsed",
    [(70, False), (100, True), (50, False)],
)
def test_a_two_class_split_collapses_only_at_twice_a_class_true_share(predicted_cats, collapsed):
    truth = np.array([0] * 50 + [1] * 50)
    predicted = np.array([0] * predicted_cats + [1] * (100 - predicted_cats))
    assert bool(collapse_warnings({"m": predicted}, truth, ["cat", "dog"])) is collapsed


def test_the_first_pass_is_named_by_its_templates():
    assert first_pass_label("single") == "one template"
    assert first_pass_label("ensemble80") == "80-template ensemble (first pass)"
    assert first_pass_label(["a {}.", "the {}."]) == "2 custom templates (first pass)"
    labels = np.array([0, 1, 0])
    predicted = PassPredictions(first=labels, fudd=labels, fused=labels)
    rows = method_rows(
        {"class name": (labels, "")}, predicted, labels, FusionRule(weight=0.5), "x (first pass)"
    )
    assert [r[0] for r in rows][:2] == ["class name", "x (first pass)"]


class _Result(BaseModel):
    """The fields the report reads, for a report without a run."""

    methods: list
    test_images: int = 21
    validation_images: int = 9
    chance: object = None
    warnings: list[str] = []
    provenance: Provenance
    confused: list = []
    fixed: list = []
    broken: list = []
    changed_by: str = "fusion"


def test_reports_carry_the_warnings_the_interval_and_how_it_was_made():
    truth = np.arange(21) % 5
    level = chance_level(truth, NAMES)
    methods = method_accuracies(_rows({"one template": truth}), truth, np.arange(21), level)
    provenance = Provenance(clip="world", clip_weights="sha256:abc", llm="embedded:qwen")
    result = _Result(
        methods=methods,
        chance=level,
        warnings=["Predictions collapse onto 'Bengal': ..."],
        provenance=provenance,
    )
    markdown = to_markdown("t", result)
    assert "> **Warning:** Predictions collapse onto 'Bengal'" in markdown
    assert "Made with:\n\n- CLIP: world (sha256:abc)\n- LLM: embedded:qwen" in markdown
    assert "| one template | 100.0% | 84.5%-100.0% |" in markdown
    assert "chance 20.0% (5 classes)" in markdown
    page = to_html("t", result)
    assert "<b>Warning:</b> Predictions collapse onto &#x27;Bengal&#x27;" in page
    assert "<li>CLIP: world (sha256:abc)</li>" in page and "84.5%-100.0%" in page
