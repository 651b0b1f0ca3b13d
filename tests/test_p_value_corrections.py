"""The Bonferroni branch of ``adjust_p_values``: each p-value times the number of tests, capped
at 1; an untestable hypothesis (nan) stays nan but still counts as a test (issue 27.6)."""

from __future__ import annotations

import numpy as np

from clipflows.components.set_difference.ranking import adjust_p_values


def test_bonferroni_multiplies_by_the_number_of_tests_and_caps_at_one():
    p = np.array([0.01, 0.2, np.nan, 0.4])
    adjusted = adjust_p_values(p, "bonferroni")
    np.testing.assert_allclose(adjusted, [0.04, 0.8, np.nan, 1.0])


def test_bonferroni_is_never_below_holm_and_equals_it_for_the_smallest():
    p = np.array([0.003, 0.04, 0.011, 0.2, 0.03])
    bonferroni, holm = adjust_p_values(p, "bonferroni"), adjust_p_values(p, "holm")
    assert np.all(bonferroni >= holm)
    assert bonferroni[0] == holm[0] == 0.015
    assert bonferroni[1] == 0.2 and holm[1] < 0.2  # Holm steps down; Bonferroni does not


def test_bonferroni_of_no_tests_is_empty():
    assert adjust_p_values(np.array([]), "bonferroni").shape == (0,)
