"""The accuracy table's rows are named by one enum, so a caller asking for a row by name gets it
or an error listing the rows (issue 27.4)."""

from __future__ import annotations

import numpy as np
import pytest
from test_classification_page import _collapsed_result

from clipflows.components.classification.report import (
    Method,
    first_pass_label,
    follow_up_pairs,
    method_rows,
)
from clipflows.components.classification.second_pass import FusionRule, PassPredictions


def test_rows_are_named_by_the_enum_and_a_missing_row_names_the_rows(tmp_path):
    result = _collapsed_result(tmp_path)
    assert result.accuracy(Method.ONE_TEMPLATE) == result.accuracy("one template") == 0.5
    with pytest.raises(KeyError, match="No method 'FuDD \\+ fusion'; rows: \\['one template'"):
        result.accuracy(Method.FUSION)


def test_the_first_pass_row_follows_the_templates():
    labels = np.array([0, 1])
    predicted = PassPredictions(first=labels, fudd=labels, fused=labels)
    baselines = {Method.CLASS_NAME: (labels, ""), Method.ENSEMBLE: (labels, "")}
    rows = method_rows(
        baselines, predicted, labels, FusionRule(weight=0.5), first_pass_label("ensemble80")
    )
    assert [name for name, _, _ in rows] == [
        Method.CLASS_NAME,
        Method.ENSEMBLE_FIRST_PASS,
        Method.ENSEMBLE,
        Method.FUDD,
        Method.FUSION,
        Method.ORACLE,
    ]


def test_follow_up_asks_only_about_pairs_confused_on_validation_images():
    names = ["red circle", "red square", "blue circle", "blue square"]
    labels = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    predicted = labels.copy()
    predicted[[0, 1]] = [1, 0]  # validation: red circle <-> red square, twice
    predicted[[6, 7]] = [3, 2]  # test: blue circle <-> blue square, twice
    validation = np.array([0, 1, 2, 3])
    pairs = follow_up_pairs(labels, predicted, validation, names, top=5)
    assert [(p.class_a, p.class_b, p.count) for p in pairs] == [("red circle", "red square", 2)]
    everything = follow_up_pairs(labels, predicted, np.arange(8), names, top=5)
    assert len(everything) == 2  # the test images' confusion is there to be found, and was not
