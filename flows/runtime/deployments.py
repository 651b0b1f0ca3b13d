"""Prefect deployments of the clipflows workflows: names, default parameters, example schedules.

An explicit registry (name -> spec) so `deploy/serve.py`, the CLI and the tests build the same
deployments; the flows are imported only when a deployment is built.
"""

from __future__ import annotations

import importlib
from typing import Any, Literal

from pydantic import BaseModel, Field

TaskRunnerName = Literal["thread", "dask"]
# Tasks run at once by the workflows' default thread pool (Prefect's own is unbounded): enough
# concurrent requests for a batching LLM server, few enough encoding shards in memory at once.
DEFAULT_THREADS = 8


class DeploymentSpec(BaseModel):
    """One deployment: which flow (``module:attribute``), its parameters and an example cron."""

    flow: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    cron: str | None = None
    description: str = ""


# What `clipflows train-clip` trains without --init: a new tiny open_clip model
# (components.world.recipe.TINY_ARCHITECTURE, which a test keeps this equal to; written out so
# this registry imports nothing heavy).
TINY_ARCHITECTURE = {
    "embed_dim": 128,
    "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16, "head_width": 64},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 128, "heads": 2, "layers": 3},
}
# Deployments on world data name the world CLIP (the default is a real CLIP, for a user's
# images): the demo, and the music-retrieval pair, whose model learns from synthetic videos drawn
# in the world's shapes and colours and encodes a video with the CLIP it was trained with.
WORLD_SETTINGS = {"clip": "world"}

# Example schedules; parameters are JSON so they can be edited in the Prefect UI or
# overridden with `prefect deployment run NAME --param k=v`. Every set is valid for its flow's
# signature (tests/test_deploy_files.py validates them as Prefect does before a run).
DEPLOYMENTS: dict[str, DeploymentSpec] = {
    "nightly-set-difference": DeploymentSpec(
        flow="clipflows.flows.set_difference:set_difference",
        parameters={
            "set_a": "/data/images/this-week",
            "set_b": "/data/images/last-week",
            "names": ["this week", "last week"],
            "output": "/data/reports/set-difference",
        },
        cron="0 2 * * *",
        description="Nightly: how this week's images differ from last week's.",
    ),
    "nightly-embed": DeploymentSpec(
        flow="clipflows.flows.embed_folders:embed_folders",
        parameters={"folders": ["/data/images/this-week", "/data/images/last-week"]},
        cron="0 1 * * *",
        description="Nightly, before the set difference: fill the embedding cache, one task per folder.",
    ),
    "weekly-classify": DeploymentSpec(
        flow="clipflows.flows.classify:classify",
        parameters={"dataset": "/data/labelled", "output": "/data/reports/classify"},
        cron="0 3 * * 0",
        description="Weekly zero-shot classification report with differential descriptions.",
    ),
    "train-clip": DeploymentSpec(
        flow="clipflows.flows.train_clip:train_clip_flow",
        parameters={
            "data": "/data/captions",
            "output": "/data/models/clip",
            "config": {"architecture": TINY_ARCHITECTURE},
        },
        description="On demand: train or resume an open_clip model on an image-caption folder.",
    ),
    "weekly-evaluate-separation": DeploymentSpec(
        flow="clipflows.flows.separation:evaluate_separation",
        parameters={"mixtures": 40, "output": "/data/reports/separation"},
        cron="0 5 * * 1",
        description="Weekly: text-queried separation vs the mixture and the ideal ratio mask.",
    ),
    "separate": DeploymentSpec(
        flow="clipflows.flows.separation:separate",
        parameters={
            "audio": "/data/audio/in.wav",
            "query": "a dog barking",
            "output": "/data/separated",
        },
        description="On demand: extract the sound a text query describes from one recording.",
    ),
    "nightly-describe-music": DeploymentSpec(
        flow="clipflows.flows.music_library:describe_library",
        parameters={"folder": "/data/music", "index_dir": "/data/music-index"},
        cron="0 0 * * *",
        description="Nightly: tag and describe new tracks (cached ones cost nothing), reindex.",
    ),
    "weekly-train-music-retrieval": DeploymentSpec(
        flow="clipflows.flows.music_retrieval:train_music_retrieval",
        parameters={
            "library_dir": "/data/music-index",
            "output": "/data/models/music",
            "settings": WORLD_SETTINGS,
        },
        cron="0 6 * * 1",
        description="Weekly: retrain video/text -> music on the described library; held-out recall.",
    ),
    "recommend-music": DeploymentSpec(
        flow="clipflows.flows.music_retrieval:recommend",
        parameters={
            "video": "/data/video/in.mp4",
            "text": None,
            "k": 5,
            "model_dir": "/data/models/music",
            "output": "/data/music-picks",
            "settings": WORLD_SETTINGS,
        },
        description="On demand: rank library tracks for a video and an optional wish in words.",
    ),
    "demo": DeploymentSpec(
        flow="clipflows.flows.demo:demo_flow",
        parameters={"settings": WORLD_SETTINGS},
        cron="30 4 * * *",
        description="Daily smoke run of the offline demo (world CLIP, set difference, FuDD).",
    ),
}


def load_flow(target: str):
    """Import ``module:attribute`` and return the flow object."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def make_task_runner(
    name: TaskRunnerName = "thread", workers: int = 4, threads_per_worker: int = 1
):
    """A Prefect task runner by name: a thread pool (default) or a local Dask cluster of
    ``workers`` processes, each running ``threads_per_worker`` tasks at a time (more than one
    suits tasks that mostly wait, such as calls to an LLM server)."""
    if name == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if name == "dask":
        from clipflows.flows.runtime.dask import local_dask_runner  # the `deploy` extra

        return local_dask_runner(workers, threads_per_worker)
    raise ValueError(f"unknown task runner {name!r}: choose 'thread' or 'dask'")


def with_task_runner(
    flow, name: TaskRunnerName = "thread", workers: int = 4, threads_per_worker: int = 1
):
    """The same flow with another task runner (no decorator edits in the flow modules)."""
    return flow.with_options(task_runner=make_task_runner(name, workers, threads_per_worker))


def build_deployments(
    names: list[str] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    interval_s: float | None = None,
):
    """`RunnerDeployment`s for ``names`` (all by default); ``overrides`` patch parameters,
    ``interval_s`` replaces the cron schedules (tests, quick local checks)."""
    overrides = overrides or {}
    unknown = sorted(set(names or []) - set(DEPLOYMENTS))
    if unknown:
        from clipflows.components.errors import ClipflowsError

        raise ClipflowsError(f"unknown deployment(s) {unknown}: choose from {sorted(DEPLOYMENTS)}")
    built = []
    for name in names or list(DEPLOYMENTS):
        spec = DEPLOYMENTS[name]
        schedule: dict[str, Any] = {"interval": interval_s} if interval_s else {"cron": spec.cron}
        if schedule.get("cron") is None and "interval" not in schedule:
            schedule = {}
        built.append(
            load_flow(spec.flow).to_deployment(
                name=name,
                parameters={**spec.parameters, **overrides.get(name, {})},
                description=spec.description,
                **schedule,
            )
        )
    return built


def serve_deployments(
    names: list[str] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    interval_s: float | None = None,
    limit: int | None = None,
) -> None:
    """Register the deployments with the Prefect API and run their flows in this process, at
    most ``limit`` at a time (see :func:`build_deployments` for the other arguments)."""
    from prefect import serve

    serve(*build_deployments(names, overrides, interval_s), limit=limit)
