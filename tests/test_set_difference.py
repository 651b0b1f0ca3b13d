"""The set-difference flow on world sets whose true difference is known."""

import json
from pathlib import Path

import pytest

from clipflows.agents.proposer import ProposerConfig
from clipflows.components.errors import EmptyInputError
from clipflows.components.set_difference.evaluation import evaluate
from clipflows.components.set_difference.ranking import Hypothesis
from clipflows.components.settings import LLMSettings
from clipflows.components.world.set_pairs import (
    WORLD_SET_PAIRS,
    candidate_pool,
    world_judge,
    write_pair,
)
from clipflows.components.world.vocabulary import WORLD_VOCABULARY
from clipflows.flows import set_difference as flow
from clipflows.flows.set_difference import set_difference

PAIRS = {p.name: p for p in WORLD_SET_PAIRS}
SMALL = ProposerConfig(rounds=1, sample_size=8)


@pytest.fixture
def world_settings(settings, world_spec):
    return settings.model_copy(update={"clip": world_spec})


@pytest.mark.parametrize("name", ["red-vs-blue", "two-vs-one"])
def test_the_true_difference_is_ranked_first(name, world_settings, tmp_path, prefect_harness):
    """The ranker alone: the true phrases among distractors, in both directions."""
    pair = PAIRS[name]
    set_a, set_b = write_pair(pair, tmp_path, count=40)
    result = set_difference(
        str(set_a),
        str(set_b),
        settings=world_settings,
        vocabulary=WORLD_VOCABULARY,
        llm_proposals=False,
        extra_hypotheses=candidate_pool(pair),
        output=str(tmp_path / "out"),
        vocabulary_candidates=False,
    )
    judged = evaluate(result.ranking, world_judge(pair))
    assert judged.acc_at_1 == 1.0, [(s.text, s.direction, s.auroc) for s in result.ranking[:5]]
    assert result.ranking[0].significant and result.ranking[0].auroc > 0.9
    report = json.loads(Path(result.report["result.json"]).read_text())
    assert report["ranking"][0]["text"] == result.ranking[0].text
    html = Path(result.report["report.html"]).read_text()
    assert "<table>" in html and "data:image/png;base64," in html


def test_the_llm_path_proposes_in_both_directions(world_settings, tmp_path, prefect_harness):
    set_a, set_b = write_pair(PAIRS["red-vs-blue"], tmp_path, count=20)
    result = set_difference(
        str(set_a),
        str(set_b),
        settings=world_settings,
        vocabulary=WORLD_VOCABULARY,
        proposer=SMALL,
        vocabulary_candidates=False,
    )
    assert {h.direction for h in result.hypotheses} == {"A", "B"}
    assert len(set(result.hypotheses)) == len(result.hypotheses)
    assert len(result.ranking) == len(result.hypotheses)
    assert all("shape" in c and "background" in c for c in result.captions_a)


def test_empty_and_unreadable_sets_are_clear_errors(world_settings, tmp_path, prefect_harness):
    set_a, _ = write_pair(PAIRS["red-vs-blue"], tmp_path, count=4)
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyInputError, match="Set B has no images"):
        set_difference(str(set_a), str(tmp_path / "empty"), settings=world_settings)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.png").write_bytes(b"not a png")
    with pytest.raises(EmptyInputError, match="no image could be read"):
        set_difference(str(set_a), str(broken), settings=world_settings)


def test_a_one_image_set_is_refused_before_any_llm_call(world_settings, tmp_path, prefect_harness):
    """One readable image cannot be tested (it used to give 'AUROC 1.00, p = nan')."""
    set_a, set_b = write_pair(PAIRS["red-vs-blue"], tmp_path, count=12)
    one = [str(sorted(set_b.glob("*.png"))[0]), str(tmp_path / "missing.png")]
    unreachable = LLMSettings(
        backend="openai-compatible", model="x", base_url="http://127.0.0.1:9/v1"
    )
    broken = world_settings.model_copy(update={"llm": unreachable})  # an LLM call would fail
    with pytest.raises(EmptyInputError, match="Set B has 1 readable image.*at least 3"):
        set_difference(str(set_a), one, settings=broken, vocabulary=WORLD_VOCABULARY)


def test_a_small_set_with_unreadable_files_still_runs(world_settings, tmp_path, prefect_harness):
    set_a, set_b = write_pair(PAIRS["red-vs-blue"], tmp_path, count=12)
    three = [*map(str, sorted(set_b.glob("*.png"))[:3]), str(tmp_path / "missing.png")]
    result = set_difference(
        str(set_a),
        three,
        settings=world_settings,
        vocabulary=WORLD_VOCABULARY,
        llm_proposals=False,
        extra_hypotheses=[Hypothesis(text="red shapes", direction="A")],
        vocabulary_candidates=False,
    )
    assert result.set_b.images == 3
    assert [s.reason for s in result.set_b.skipped] == ["file not found"]
    assert any(s.text == "red shapes" for s in result.ranking)


def test_a_set_of_ten_thousand_paths_runs_to_the_end(world_settings, tmp_path, prefect_harness):
    from clipflows.components.world.scenes import WorldConfig, write_dataset

    big = write_dataset(WorldConfig(colours=["red", "green"], seed=9), 10_000, tmp_path / "big")
    small = write_dataset(WorldConfig(colours=["blue"], seed=10), 50, tmp_path / "small")
    result = set_difference(
        str(big / "images"),
        str(small / "images"),
        settings=world_settings,
        vocabulary=WORLD_VOCABULARY,
        proposer=SMALL,
        extra_hypotheses=[Hypothesis(text="blue shapes", direction="B")],
        vocabulary_candidates=False,
    )
    assert result.set_a.images == 10_000 and result.set_b.images == 50
    assert len(result.captions_a) == SMALL.rounds * SMALL.sample_size
    assert result.ranking[0].text == "blue shapes" and result.ranking[0].auroc > 0.95


def test_refinement_rounds_add_ranked_hypotheses_until_no_gain(
    world_settings, tmp_path, prefect_harness
):
    from clipflows.agents.refiner import RefinerConfig

    set_a, set_b = write_pair(PAIRS["red-vs-blue"], tmp_path, count=20)
    result = set_difference(
        str(set_a),
        str(set_b),
        settings=world_settings,
        vocabulary=WORLD_VOCABULARY,
        proposer=SMALL,
        refiner=RefinerConfig(rounds=3, min_gain=1.0),  # no round can gain a whole AUROC
        vocabulary_candidates=False,
    )
    # The first round falls short of the gain asked for, so refinement stops after it.
    assert [r.round for r in result.refinement] == [1]
    assert result.llm_calls >= 1 + 2  # a proposer call, then two for the round
    assert {(s.text, s.direction) for s in result.ranking} == {
        (h.text, h.direction) for h in result.hypotheses
    }
    # The round's hypotheses were ranked with the rest: its best is the final ranking's best.
    assert result.refinement[-1].best_auroc == max(s.auroc for s in result.ranking)


def test_shards_are_put_back_in_input_order(world_settings, tmp_path, prefect_harness):
    """Shards of 3 images (two with a bad file) give the paths, skips and ranking of one shard,
    also when both sets have the same name."""
    set_a, set_b = write_pair(PAIRS["red-vs-blue"], tmp_path, count=10)
    (set_a / "0004_bad.png").write_bytes(b"not a png")
    (set_b / "0007_bad.png").write_bytes(b"")
    runs = {}
    for shard_size in (3, 512):
        settings = world_settings.model_copy(update={"cache_dir": tmp_path / str(shard_size)})
        runs[shard_size] = set_difference(
            str(set_a),
            str(set_b),
            settings=settings,
            vocabulary=WORLD_VOCABULARY,
            vocabulary_candidates=True,
            llm_proposals=False,
            shard_size=shard_size,
            names=("images", "images") if shard_size == 3 else ("A", "B"),  # folder names clash
        )
    sharded, whole = runs[3], runs[512]
    for one, other in ((sharded.set_a, whole.set_a), (sharded.set_b, whole.set_b)):
        assert one.paths == other.paths and one.paths == sorted(one.paths)
        assert one.images == other.images == one.encoded == 10
        assert [s.path for s in one.skipped] == [s.path for s in other.skipped]
        assert len(one.skipped) == 1
    assert [(s.text, s.direction, round(s.auroc, 6)) for s in sharded.ranking] == [
        (s.text, s.direction, round(s.auroc, 6)) for s in whole.ranking
    ]
    with pytest.raises(ValueError, match="shard_size"):
        set_difference(str(set_a), str(set_b), settings=world_settings, shard_size=0)


def test_an_empty_pool_says_whether_the_llm_was_asked():
    with pytest.raises(EmptyInputError, match="the LLM's answers left none"):
        flow.candidate_pool([], [], None, llm_asked=True)
    with pytest.raises(EmptyInputError, match="enable llm_proposals"):
        flow.candidate_pool([], [], None, llm_asked=False)
    one = Hypothesis(text="red", direction="A")
    assert flow.candidate_pool([one], [one], None, llm_asked=True) == [one]
