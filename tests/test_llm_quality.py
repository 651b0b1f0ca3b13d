"""The default LLM's answers on small fixed cases, checked against known answers, so that a
prompt change that makes a step worse fails here. Every other test uses SmolLM2 for plumbing;
these name the default model. Its answers are cached for the module, so a step asked twice
costs one call. About 3-4 minutes on 2 cores (tests/bench/eval_llm_steps.py measures the same
steps on every case)."""

from __future__ import annotations

import pytest

from clipflows.agents.llm_registry import DEFAULT_LLM
from clipflows.agents.music_describer import DescriberConfig, describe_track, load_analogies
from clipflows.components.set_difference.evaluation import evaluate
from clipflows.components.settings import Settings
from clipflows.components.world.class_task import world_class_task
from clipflows.components.world.scenes import WorldConfig
from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, world_judge, write_pair
from clipflows.components.world.vocabulary import WORLD_VOCABULARY
from clipflows.flows.assistant_eval import load_suite, run_suite
from clipflows.flows.classify import ClassifyConfig, classify
from clipflows.flows.runtime.worker_models import worker_llm
from clipflows.flows.set_difference import set_difference

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quality_settings(tmp_path_factory, world_spec) -> Settings:
    """The default LLM over the world CLIP, with a cache of its own for this module."""
    folder = tmp_path_factory.mktemp("llm-quality")
    return Settings(cache_dir=folder / "cache", clip=world_spec, llm={"model": DEFAULT_LLM})


@pytest.mark.parametrize("name", ["red-vs-blue", "circles-vs-squares"])
def test_llm_proposals_alone_name_the_true_difference(
    name, quality_settings, tmp_path, prefect_harness
):
    pair = next(p for p in WORLD_SET_PAIRS if p.name == name)
    set_a, set_b = write_pair(pair, tmp_path, count=40)
    result = set_difference(
        str(set_a),
        str(set_b),
        settings=quality_settings,
        vocabulary=WORLD_VOCABULARY,
        vocabulary_candidates=False,
    )
    evaluation = evaluate(result.ranking, world_judge(pair))
    assert evaluation.acc_at_1 == 1.0, [j.model_dump() for j in evaluation.judged]


def test_differential_descriptions_tell_same_colour_shapes_apart(
    quality_settings, tmp_path, prefect_harness
):
    # Shape words in other languages ("red cerchio"): the CLIP reads the colour, the LLM
    # must say what the shape looks like.
    task = world_class_task(tmp_path / "red", count=120, config=WorldConfig(colours=["red"]))
    result = classify(task, settings=quality_settings, config=ClassifyConfig(k=4, generic=False))
    assert not result.description_failures
    assert result.accuracy("FuDD (paper rule)") >= 0.8
    assert result.accuracy("FuDD (paper rule)") >= result.accuracy("one template") + 0.3


def test_music_descriptions_are_new_sentences_that_keep_the_tags_meaning(quality_settings):
    llm = worker_llm(quality_settings)
    bank = load_analogies()
    tags = {"piano": 0.7, "classical": 0.5, "slow": 0.45, "soft": 0.3, "quiet": 0.2}
    description = describe_track(llm, tags, bank, DescriberConfig())  # the schema refuses copies
    assert "piano" in description.lower()
    assert not any(a.description.lower() == description.lower() for a in bank)


def test_the_assistant_plans_the_right_tools_with_the_users_paths(quality_settings):
    suite = load_suite()
    picked = {}
    for case in suite.cases:  # one request of each kind, in the suite's order
        picked.setdefault(case.kind, case)
    sample = suite.model_copy(update={"cases": list(picked.values())})
    run = run_suite(quality_settings, sample, llm=worker_llm(quality_settings))
    wrong = [c.request for c in run.cases if not c.valid_arguments]
    assert not wrong
    assert run.refusals_held == run.refusals
