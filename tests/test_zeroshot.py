"""Zero-shot classifier: template sets and ambiguity sets."""

import numpy as np
import pytest

from clipflows.components.clip.zeroshot import ambiguity_sets, templates_for


def test_named_template_sets_and_custom_templates():
    assert templates_for("single") == ("a photo of a {}.",)
    assert templates_for("name") == ("{}",)
    ensemble = templates_for("ensemble80")
    assert len(ensemble) == 80 and len(set(ensemble)) == 80
    assert all("{}" in t for t in ensemble)
    assert templates_for(["a drawing of {}"]) == ("a drawing of {}",)
    with pytest.raises(ValueError, match="ensemble80"):
        templates_for("ensemble81")


def test_ambiguity_sets_are_the_top_k_best_first():
    scores = np.array([[0.1, 0.9, 0.3, 0.5], [0.4, 0.2, 0.8, 0.1]])
    assert ambiguity_sets(scores, 2).tolist() == [[1, 3], [2, 0]]
    assert ambiguity_sets(scores, 10).tolist() == [[1, 3, 2, 0], [2, 0, 1, 3]]
    rng = np.random.default_rng(0)
    many = rng.normal(size=(50, 30))
    sets = ambiguity_sets(many, 7)
    expected = np.argsort(-many, axis=1)[:, :7]
    assert (sets == expected).all()
    with pytest.raises(ValueError):
        ambiguity_sets(scores, 0)
