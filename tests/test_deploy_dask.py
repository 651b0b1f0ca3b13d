"""The same workflows on a 2-worker local Dask cluster give the default runner's results."""

from __future__ import annotations

import numpy as np
import pytest
from prefect_dask import DaskTaskRunner

from clipflows.agents.proposer import ProposerConfig
from clipflows.agents.refiner import RefinerConfig
from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, write_pair
from clipflows.components.world.vocabulary import WORLD_VOCABULARY
from clipflows.flows.embed_folders import embed_folders
from clipflows.flows.runtime.deployments import make_task_runner, with_task_runner
from clipflows.flows.set_difference import set_difference


@pytest.mark.slow
def test_dask_runner_matches_the_default_runner(settings, world_spec, tmp_path, prefect_harness):
    folders = []
    for pair in WORLD_SET_PAIRS[:2]:
        folders += [str(f) for f in write_pair(pair, tmp_path / "sets", count=12)]
    # separate caches: both runs really encode
    default_settings = settings.model_copy(
        update={"clip": world_spec, "cache_dir": tmp_path / "c1"}
    )
    dask_settings = settings.model_copy(update={"clip": world_spec, "cache_dir": tmp_path / "c2"})
    default = embed_folders(folders, settings=default_settings)
    dask_flow = with_task_runner(embed_folders, "dask", workers=2)
    assert isinstance(dask_flow.task_runner, DaskTaskRunner)
    distributed = dask_flow(folders, settings=dask_settings)
    assert [r.folder for r in distributed] == folders
    for one, other in zip(default, distributed, strict=True):
        assert one.paths == other.paths and len(one.paths) == 12
        assert one.encoded == other.encoded == 12
        np.testing.assert_allclose(np.array(one.vectors), np.array(other.vectors), atol=1e-5)


@pytest.mark.slow
def test_set_difference_on_dask_equals_the_default_runner(
    settings, world_spec, tmp_path, prefect_harness
):
    """Shards, caption samples, proposer calls and judgements fan out over two worker
    processes, each with its own world CLIP and SmolLM2; nothing differs but the runner."""
    set_a, set_b = write_pair(WORLD_SET_PAIRS[0], tmp_path / "sets", count=24)
    kwargs = dict(
        vocabulary=WORLD_VOCABULARY,
        proposer=ProposerConfig(rounds=2, sample_size=6, per_set=4),
        vocabulary_candidates=True,
        truth=WORLD_SET_PAIRS[0].truth,
        refiner=RefinerConfig(rounds=1),  # a task that captions and asks the LLM in a worker
        shard_size=10,  # three shards a set
    )
    runs, task_runs = {}, {}
    for runner in ("thread", "dask"):
        # separate caches: each run encodes every image and asks the LLM every question
        run_settings = settings.model_copy(
            update={"clip": world_spec, "cache_dir": tmp_path / runner}
        )
        flow = with_task_runner(set_difference, runner, workers=2, threads_per_worker=2)
        state = flow(str(set_a), str(set_b), settings=run_settings, return_state=True, **kwargs)
        runs[runner] = state.result()
        task_runs[runner] = _task_runs(state.state_details.flow_run_id)
    default, distributed = runs["thread"], runs["dask"]
    # The workers reported every task run to the flow's own API, all completed.
    assert task_runs["dask"] == task_runs["thread"]
    assert task_runs["dask"]["encode-shard"] == ["COMPLETED"] * 6
    assert task_runs["dask"]["propose"] == ["COMPLETED"] * 2
    assert default.set_a.encoded == distributed.set_a.encoded == 24
    assert default.set_a.paths == distributed.set_a.paths
    assert default.set_b.paths == distributed.set_b.paths
    assert default.captions_a == distributed.captions_a and len(default.captions_a) == 12
    assert default.captions_b == distributed.captions_b
    # 2 rounds (both directions in one call), a judgement for each of the top five, retries.
    # Not equal counts: two concurrent tasks asking one question may both miss the answer cache
    # (CI once saw 12 calls against 11); the answers compared below are what must agree.
    assert default.llm_calls >= 2 + 5 and distributed.llm_calls >= 2 + 5
    assert default.hypotheses == distributed.hypotheses
    ranked = [(s.text, s.direction) for s in default.ranking]
    assert ranked == [(s.text, s.direction) for s in distributed.ranking]
    np.testing.assert_allclose(
        [s.auroc for s in default.ranking], [s.auroc for s in distributed.ranking], atol=1e-6
    )
    assert default.evaluation == distributed.evaluation
    assert len(default.evaluation.judged) == 5


@pytest.mark.slow
def test_classify_on_dask_equals_the_default_runner(
    settings, world_spec, tmp_path, prefect_harness
):
    """Descriptions, the follow-up round and the baselines (generic descriptions) run as tasks
    that take settings and load their models in each worker, so a Dask run classifies alike."""
    from clipflows.components.world.class_task import world_class_task
    from clipflows.components.world.scenes import WorldConfig
    from clipflows.flows.classify import ClassifyConfig, classify

    data = world_class_task(tmp_path / "task", 48, WorldConfig(colours=["red", "blue"]))
    config = ClassifyConfig(k=3, follow_up=2, ensemble=False, shard_size=16)
    runs, task_runs = {}, {}
    for runner in ("thread", "dask"):
        run_settings = settings.model_copy(
            update={"clip": world_spec, "cache_dir": tmp_path / runner}
        )
        flow = with_task_runner(classify, runner, workers=2, threads_per_worker=2)
        state = flow(data, settings=run_settings, config=config, return_state=True)
        runs[runner] = state.result()
        task_runs[runner] = _task_runs(state.state_details.flow_run_id)
    default, distributed = runs["thread"], runs["dask"]
    assert task_runs["dask"] == task_runs["thread"]
    assert task_runs["dask"]["baselines"] == ["COMPLETED"]
    assert default.llm_calls == distributed.llm_calls > 0
    assert default.followed_up == distributed.followed_up
    assert [(m.method, m.accuracy) for m in default.methods] == [
        (m.method, m.accuracy) for m in distributed.methods
    ]
    assert default.predictions == distributed.predictions


def _task_runs(flow_run_id) -> dict[str, list[str]]:
    """Task name -> the state of each of its runs in one flow run, as the API recorded them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    found: dict[str, list[str]] = {}
    for run in runs:  # run names are "<task name>-<3 characters>"
        found.setdefault(run.name.rsplit("-", 1)[0], []).append(run.state.type.value)
    return found


def test_unknown_task_runner_is_refused():
    with pytest.raises(ValueError, match="unknown task runner"):
        make_task_runner("ray")  # type: ignore[arg-type]
