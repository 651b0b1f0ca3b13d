import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from clipflows.components.errors import EmptyInputError
from clipflows.components.set_difference.ranking import (
    Hypothesis,
    RankerConfig,
    adjust_p_values,
    filter_significant,
    rank_hypotheses,
    resampled_auroc,
)
from clipflows.components.set_difference.report import ranked_rows, to_html, to_markdown

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
    plain = _by_text(rank_hypotheses(a, b, HYPOTHESES, VECTORS, RankerConfig(correction="none")))
    corrected = rank_hypotheses(a, b, HYPOTHESES, VECTORS, RankerConfig(correction="bonferroni"))
    for score in corrected:
        assert score.p_value == pytest.approx(plain[score.text].p_value)  # the raw one is kept
        assert score.p_adjusted == pytest.approx(min(1.0, 4 * plain[score.text].p_value))
        assert score.significant == (score.p_adjusted < 0.05)


# Wikipedia's Holm-Bonferroni example (four hypotheses, alpha 0.05: Holm rejects H4 and H1).
TEXTBOOK_P = np.array([0.01, 0.04, 0.03, 0.005])


def test_holm_and_benjamini_hochberg_give_the_textbook_adjusted_values():
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04, then
    # non-decreasing: 0.02, 0.03, 0.06, 0.06. BH: times 4/1, 4/2, 4/3, 4/4 = 0.02, 0.02, 0.04,
    # 0.04, then non-increasing from the largest: unchanged.
    holm = adjust_p_values(TEXTBOOK_P, "holm")
    assert holm == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert adjust_p_values(TEXTBOOK_P, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjust_p_values(TEXTBOOK_P, "none") == pytest.approx(TEXTBOOK_P)
    assert list(holm < 0.05) == [True, False, False, True]
    # An untestable (nan) p-value stays nan and counts as a fifth hypothesis with p = 1.
    with_nan = adjust_p_values(np.r_[TEXTBOOK_P, np.nan], "holm")
    assert np.isnan(with_nan[4]) and with_nan[:4] == pytest.approx([0.04, 0.09, 0.09, 0.025])


def _null_vocabulary(
    seed: int, phrases: int = 200
) -> tuple[np.ndarray, np.ndarray, list, np.ndarray]:
    """Two sets from one distribution and ``phrases`` random phrases in both directions, which
    share a common direction as CLIP's text embeddings do (so their scores correlate)."""
    rng = np.random.default_rng(seed)
    a, b = (_normalise(rng.normal(size=(n, 64)) + 0.5) for n in (60, 60))
    common = rng.normal(size=64)
    vectors = _normalise(common + rng.normal(size=(phrases, 64)))
    hypotheses = [Hypothesis(text=f"phrase {k}", direction=d) for d in "AB" for k in range(phrases)]
    return a, b, hypotheses, np.vstack([vectors, vectors])


def test_a_vocabulary_of_random_phrases_finds_no_difference_between_like_sets():
    """Without correction about one phrase in twenty passes by chance; Holm (the default) and
    BH leave (nearly) none."""
    found = {"none": 0, "holm": 0, "bh": 0}
    for seed in range(5):
        a, b, hypotheses, vectors = _null_vocabulary(seed)
        for method in found:
            config = RankerConfig(bootstrap=0, correction=method)
            found[method] += len(
                filter_significant(rank_hypotheses(a, b, hypotheses, vectors, config))
            )
        default = rank_hypotheses(a, b, hypotheses, vectors, RankerConfig(bootstrap=0))
        assert not filter_significant(default)
    assert found["none"] >= 20, found  # of 5 x 400: the problem is real in this setting
    assert found["holm"] <= 1 and found["bh"] <= 2, found


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_a_true_difference_stays_significant_among_random_phrases(method: str):
    _, _, hypotheses, vectors = _null_vocabulary(seed=7)
    a, b = _sets(40, 40, shift=1.5)
    random = vectors[:, :D].copy()
    random[:, :2] = 0  # noise only: nothing along the axes that tell A from B
    vectors = np.vstack([VECTORS[:2], random])
    ranking = rank_hypotheses(
        a, b, HYPOTHESES[:2] + hypotheses, _normalise(vectors), RankerConfig(correction=method)
    )
    kept = {s.text for s in filter_significant(ranking)}
    assert {"a-concept", "b-concept"} <= kept, [(s.text, s.p_adjusted) for s in ranking[:5]]
    assert len(kept) <= 6  # and barely any of the 400 random ones
    scores = _by_text(ranking)
    assert scores["a-concept"].p_adjusted >= scores["a-concept"].p_value


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


@pytest.mark.parametrize(("n_a", "n_b", "small"), [(1, 20, "A"), (20, 2, "B")])
def test_a_set_too_small_to_test_is_refused_naming_it(n_a: int, n_b: int, small: str):
    a, b = _sets(n_a, n_b)
    count = min(n_a, n_b)
    with pytest.raises(
        EmptyInputError, match=f"Set {small} has {count} readable image.*at least 3"
    ):
        rank_hypotheses(a, b, HYPOTHESES, VECTORS)


def test_three_images_a_set_are_enough_and_the_minimum_is_configurable():
    a, b = _sets(3, 20)
    assert len(rank_hypotheses(a, b, HYPOTHESES, VECTORS)) == 4
    a, b = _sets(2, 20)
    ranking = rank_hypotheses(a, b, HYPOTHESES, VECTORS, RankerConfig(min_images=2))
    assert all(np.isfinite(s.p_value) for s in ranking)
    with pytest.raises(ValueError, match="min_images"):
        RankerConfig(min_images=1)


def test_an_untestable_p_value_is_never_significant_and_reads_not_testable():
    """Constant scores (identical images) have no variance: p is nan, shown as "not testable"."""
    from rich.console import Console

    from clipflows.agents.refiner import _lines
    from clipflows.flows.cli.set_difference import ranking_table

    a = b = _normalise(np.ones((5, D)))
    ranking = rank_hypotheses(a, b, HYPOTHESES, VECTORS, RankerConfig(correction="none"))
    assert all(np.isnan(s.p_value) and np.isnan(s.p_adjusted) for s in ranking)
    assert not filter_significant(ranking)
    console = Console(width=200, record=True)
    console.print(ranking_table(ranking))
    texts = {
        "rows": str(ranked_rows(ranking)),
        "markdown": to_markdown("t", ranking),
        "html": to_html("t", ranking, ["a.png"] * 5, ["b.png"] * 5),
        "cli": console.export_text(),
        "refiner prompt": _lines(ranking),
    }
    for name, text in texts.items():
        assert "not testable" in text and "nan" not in text, name


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
