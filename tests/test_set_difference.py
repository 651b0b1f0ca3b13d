"""The set-difference flow on world sets whose true difference is known."""

import json
from pathlib import Path

import pytest

from clipflows.agents.proposer import ProposerConfig
from clipflows.components.captioning import WORLD_VOCABULARY
from clipflows.components.diff_eval import evaluate, keyword_judge
from clipflows.components.errors import EmptyInputError
from clipflows.components.ranking import Hypothesis
from clipflows.components.world_sets import WORLD_SET_PAIRS, write_pair
from clipflows.flows.set_difference import set_difference

PAIRS = {p.name: p for p in WORLD_SET_PAIRS}
SMALL = ProposerConfig(rounds=1, sample_size=8)


@pytest.fixture
def world_settings(settings, world_spec):
    return settings.model_copy(update={"clip": world_spec})


def _candidates(pair) -> list[Hypothesis]:
    """The ground-truth phrases plus distractors, so the ranker is tested on its own."""
    distractors = ["large shapes", "a white background", "green stars", "a small triangle"]
    truths = [
        Hypothesis(text=w if " " in w else f"{w} shapes", direction="A") for w in pair.words_a
    ]
    truths += [
        Hypothesis(text=w if " " in w else f"{w} shapes", direction="B") for w in pair.words_b
    ]
    return truths + [Hypothesis(text=d, direction=d_dir) for d in distractors for d_dir in "AB"]


@pytest.mark.parametrize("name", ["red-vs-blue", "two-vs-one"])
def test_the_true_difference_is_ranked_first(name, world_settings, tmp_path, prefect_harness):
    pair = PAIRS[name]
    set_a, set_b = write_pair(pair, tmp_path, count=40)
    result = set_difference(
        str(set_a),
        str(set_b),
        settings=world_settings,
        vocabulary=WORLD_VOCABULARY,
        proposer=SMALL,
        extra_hypotheses=_candidates(pair),
        output=str(tmp_path / "report"),
    )
    judged = evaluate(result.ranking, keyword_judge(pair.words_a, pair.words_b))
    assert judged.acc_at_1 == 1.0, [(s.text, s.direction, s.auroc) for s in result.ranking[:5]]
    assert result.ranking[0].significant and result.ranking[0].auroc > 0.9
    assert {h.direction for h in result.hypotheses} == {"A", "B"}
    report = json.loads(Path(result.report["result.json"]).read_text())
    assert report["ranking"][0]["text"] == result.ranking[0].text
    html = Path(result.report["report.html"]).read_text()
    assert "<table>" in html and "data:image/png;base64," in html


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


def test_a_one_image_set_and_unreadable_files_still_run(world_settings, tmp_path, prefect_harness):
    set_a, set_b = write_pair(PAIRS["red-vs-blue"], tmp_path, count=12)
    one = [str(sorted(set_b.glob("*.png"))[0]), str(tmp_path / "missing.png")]
    result = set_difference(
        str(set_a),
        one,
        settings=world_settings,
        vocabulary=WORLD_VOCABULARY,
        proposer=SMALL,
        extra_hypotheses=[Hypothesis(text="red shapes", direction="A")],
    )
    assert result.set_b.images == 1
    assert [s.reason for s in result.set_b.skipped] == ["file not found"]
    assert any(s.text == "red shapes" for s in result.ranking)
