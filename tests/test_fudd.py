"""The second pass and the fusion rule on vectors whose answers are known."""

import numpy as np

from clipflows.components.differential_descriptions import DescriptionBook, DifferentialEntry
from clipflows.components.fudd import (
    FusionRule,
    choose_fusion,
    fit_temperature,
    positions_in_sets,
    second_pass_scores,
)

NAMES = ["a", "b", "c"]
BASIS = {f"about {n}": np.eye(3, dtype=np.float32)[i] for i, n in enumerate(NAMES)}


def encode(texts):
    return np.stack([BASIS[t] for t in texts])


def test_each_class_is_the_mean_of_its_descriptions_within_the_set():
    book = DescriptionBook(class_names=NAMES)
    book.add(
        "a",
        "b",
        [DifferentialEntry(attr_type="x", description_a="about a", description_b="about b")],
    )
    fallback = np.full((3, 3), 1 / np.sqrt(3), np.float32)
    images = np.eye(3, dtype=np.float32)
    sets = np.array([[0, 1], [1, 0], [2, 0]])
    scores = second_pass_scores(images, sets, book, encode, fallback)
    assert np.allclose(scores[0], [1, 0]) and np.allclose(scores[1], [1, 0])
    # Pair (c, a) has no descriptions: both classes fall back to the template embedding.
    assert np.allclose(scores[2], [fallback[2] @ images[2], fallback[0] @ images[2]])


def test_positions_mark_labels_outside_the_set():
    sets = np.array([[2, 0], [1, 2]])
    assert positions_in_sets(sets, np.array([0, 0])).tolist() == [1, -1]


def test_temperature_fits_sharper_for_more_separable_scores():
    rng = np.random.default_rng(0)
    positions = rng.integers(0, 4, 400)
    noisy = rng.normal(0, 0.05, (400, 4))
    clean = noisy.copy()
    clean[np.arange(400), positions] += 0.05
    noisy[np.arange(400), positions] += 0.01
    assert fit_temperature(clean, positions) > fit_temperature(noisy, positions)


def test_fusion_finds_the_weight_that_combines_complementary_passes():
    """Each pass is right on a different half; fusing lets the confident one win."""
    rng = np.random.default_rng(1)
    n, k = 400, 3
    positions = rng.integers(0, k, n)
    first = rng.normal(0, 0.01, (n, k))
    second = rng.normal(0, 0.01, (n, k))
    half = np.arange(n) < n // 2
    first[np.arange(n)[half], positions[half]] += 0.1  # confident and right on the first half
    second[np.arange(n)[~half], positions[~half]] += 0.1
    rule = choose_fusion(first, second, positions)
    accuracy = lambda scores: (scores.argmax(1) == positions).mean()  # noqa: E731
    assert 0 < rule.weight < 1
    assert accuracy(rule.fuse(first, second)) > 0.95
    assert accuracy(FusionRule(weight=1.0).fuse(first, second)) < 0.75  # the paper's rule
    assert accuracy(FusionRule(weight=0.0).fuse(first, second)) < 0.75
