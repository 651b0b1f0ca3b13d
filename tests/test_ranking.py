import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from clipflows.components.errors import EmptyInputError
from clipflows.components.ranking import (
    Hypothesis,
    RankerConfig,
    filter_significant,
    rank_hypotheses,
    resampled_auroc,
)

D = 16


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _sets(n_a: int, n_b: int, shift: float = 2.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Set A leans along axis 0, set B along axis 1; the other axes are shared noise."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n_a, D)), rng.normal(size=(n_b, D))
    a[:, 0] += shift
    b[:, 1] += shift
    return _normalise(a), _normalise(b)


def _axis(i: int) -> np.ndarray:
    return np.eye(D)[i]


# Axis 0 is true of A, axis 1 of B, axis 2 of neither.
HYPOTHESES = [
    Hypothesis(text="a-concept", direction="A"),
    Hypothesis(text="b-concept", direction="B"),
    Hypothesis(text="noise", direction="A"),
    Hypothesis(text="b-concept said of A", direction="A"),
]
VECTORS = np.stack([_axis(0), _axis(1), _axis(2), _axis(1)])


def _by_text(scores) -> dict:
    return {s.text: s for s in scores}


def test_auroc_mean_difference_and_t_test_match_sklearn_and_scipy():
    a, b = _sets(40, 60)
    scores = _by_text(rank_hypotheses(a, b, HYPOTHESES, VECTORS))
    labels_a = np.r_[np.ones(len(a)), np.zeros(len(b))]
    for hypothesis, vector in zip(HYPOTHESES, VECTORS, strict=True):
        score = scores[hypothesis.text]
        on_a, on_b = a @ vector, b @ vector
        favoured, other = (on_a, on_b) if hypothesis.direction == "A" else (on_b, on_a)
        labels = labels_a if hypothesis.direction == "A" else 1 - labels_a
        assert score.auroc == pytest.approx(roc_auc_score(labels, np.r_[on_a, on_b]), abs=1e-12)
        assert score.mean_difference == pytest.approx(favoured.mean() - other.mean())
        welch = stats.ttest_ind(favoured, other, equal_var=False, alternative="greater")
        assert score.t_statistic == pytest.approx(welch.statistic)
        assert score.p_value == pytest.approx(welch.pvalue)


def test_results_are_sorted_by_auroc_best_first():
    a, b = _sets(30, 30)
    aurocs = [s.auroc for s in rank_hypotheses(a, b, HYPOTHESES, VECTORS)]
    assert aurocs == sorted(aurocs, reverse=True)


def test_p_value_filter_keeps_separating_and_drops_non_separating_hypotheses():
    a, b = _sets(50, 50)
    ranking = rank_hypotheses(a, b, HYPOTHESES[:3], VECTORS[:3])
    kept = [s.text for s in filter_significant(ranking)]
    assert kept == ["a-concept", "b-concept"] or kept == ["b-concept", "a-concept"]
    noise = _by_text(ranking)["noise"]
    assert not noise.significant and noise.p_value >= 0.05
    assert 0.3 < noise.auroc < 0.7


def test_direction_b_scores_set_b_as_the_positive_set():
    a, b = _sets(50, 50)
    scores = _by_text(rank_hypotheses(a, b, HYPOTHESES, VECTORS))
    as_b, as_a = scores["b-concept"], scores["b-concept said of A"]
    assert as_b.auroc > 0.95 and as_b.mean_difference > 0 and as_b.significant
    assert as_a.auroc == pytest.approx(1 - as_b.auroc)
    assert as_a.mean_difference == pytest.approx(-as_b.mean_difference)
    assert not as_a.significant


def test_confidence_interval_contains_the_estimate_and_narrows_with_more_images():
    widths = []
    for n in (20, 400):
        a, b = _sets(n, n, shift=0.7, seed=n)
        ranking = rank_hypotheses(a, b, HYPOTHESES[:1], VECTORS[:1])
        score = ranking[0]
        assert score.auroc_low <= score.auroc <= score.auroc_high
        assert 0.55 < score.auroc < 0.95
        widths.append(score.auroc_high - score.auroc_low)
    assert widths[1] < widths[0] / 2


def test_bootstrap_is_reproducible_with_its_seed():
    a, b = _sets(25, 25, shift=0.7)

    def interval(seed: int) -> tuple[float, float]:
        score = rank_hypotheses(a, b, HYPOTHESES[:1], VECTORS[:1], RankerConfig(seed=seed))[0]
        return score.auroc_low, score.auroc_high

    assert interval(3) == interval(3)
    assert interval(3) != interval(4)


def test_resampled_auroc_equals_sklearn_with_draw_counts_as_weights():
    rng = np.random.default_rng(1)
    # One decimal place makes ties, which count half.
    scores_a, scores_b = rng.normal(size=(9, 3)).round(1), rng.normal(size=(7, 3)).round(1)
    counts_a = rng.multinomial(9, np.full(9, 1 / 9), size=5)
    counts_b = rng.multinomial(7, np.full(7, 1 / 7), size=5)
    resampled = resampled_auroc(scores_a, scores_b, counts_a, counts_b)
    labels = np.r_[np.ones(9), np.zeros(7)]
    for r in range(5):
        weights = np.r_[counts_a[r], counts_b[r]]
        for k in range(3):
            scores = np.r_[scores_a[:, k], scores_b[:, k]]
            expected = roc_auc_score(labels, scores, sample_weight=weights)
            assert resampled[r, k] == pytest.approx(expected, abs=1e-12)


def test_bonferroni_multiplies_p_values_by_the_number_of_hypotheses():
    a, b = _sets(8, 8, shift=1.0)
    plain = _by_text(rank_hypotheses(a, b, HYPOTHESES, VECTORS))
    corrected = rank_hypotheses(a, b, HYPOTHESES, VECTORS, RankerConfig(correction="bonferroni"))
    for score in corrected:
        assert score.p_value == pytest.approx(min(1.0, 4 * plain[score.text].p_value))
        assert score.significant == (score.p_value < 0.05)


def test_top_and_bottom_images_are_the_best_and_worst_matches_of_each_set():
    def at_cosines(cosines: list[float]) -> np.ndarray:
        angles = np.arccos(cosines)
        return np.c_[np.cos(angles), np.sin(angles)]

    a = at_cosines([0.1, 0.9, 0.5, -0.3, 0.7, 0.0])
    b = at_cosines([0.2, -0.8, 0.4])
    (score,) = rank_hypotheses(a, b, [Hypothesis(text="x", direction="A")], np.array([[1.0, 0]]))
    assert score.top_a == [1, 4, 2, 0] and score.bottom_a == [3, 5, 0, 2]
    assert score.top_b == [2, 0, 1] and score.bottom_b == [1, 0, 2]


@pytest.mark.parametrize("empty", ["A", "B"])
def test_an_empty_set_is_an_error_naming_it(empty: str):
    a, b = _sets(5, 5)
    a, b = (a[:0], b) if empty == "A" else (a, b[:0])
    with pytest.raises(EmptyInputError, match=f"set {empty} is empty"):
        rank_hypotheses(a, b, HYPOTHESES, VECTORS)


def test_a_one_image_set_is_ranked_but_never_significant():
    a, b = _sets(1, 20)
    scores = _by_text(rank_hypotheses(a, b, HYPOTHESES, VECTORS))
    on_a, on_b = a @ _axis(0), b @ _axis(0)
    expected = roc_auc_score(np.r_[1, np.zeros(20)], np.r_[on_a, on_b])
    assert scores["a-concept"].auroc == pytest.approx(expected)
    assert np.isnan(scores["a-concept"].p_value) and not scores["a-concept"].significant
    assert scores["a-concept"].auroc_low <= scores["a-concept"].auroc_high
    assert scores["a-concept"].top_a == [0] and scores["a-concept"].bottom_a == [0]


def test_no_hypotheses_give_an_empty_ranking():
    a, b = _sets(5, 5)
    assert rank_hypotheses(a, b, [], np.empty((0, D))) == []


@pytest.mark.parametrize(
    ("b_dim", "vectors_shape"),
    [(D + 1, (4, D)), (D, (4, D + 1)), (D, (3, D))],
)
def test_mismatched_shapes_are_a_value_error_naming_them(b_dim: int, vectors_shape: tuple):
    a = _normalise(np.ones((5, D)))
    b = _normalise(np.ones((5, b_dim)))
    with pytest.raises(ValueError, match=r"Shapes do not match: set A \(5, 16\)"):
        rank_hypotheses(a, b, HYPOTHESES, np.ones(vectors_shape))


def test_zero_resamples_give_no_interval():
    a, b = _sets(10, 10)
    score = rank_hypotheses(a, b, HYPOTHESES[:1], VECTORS[:1], RankerConfig(bootstrap=0))[0]
    assert np.isnan(score.auroc_low) and np.isnan(score.auroc_high)
