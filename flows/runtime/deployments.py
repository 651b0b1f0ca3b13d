"""Prefect deployments of the clipflows workflows: names, default parameters, example schedules.

An explicit registry (name -> spec) so `deploy/serve.py`, the CLI and the tests build the same
deployments; the flows are imported only when a deployment is built. ``prefect.yaml`` (the same
deployments for `prefect deploy` onto a work pool) is rendered from it; after editing the
registry, regenerate it from the repository root:

    python -m clipflows.flows.runtime.deployments            # writes prefect.yaml
    python -m clipflows.flows.runtime.deployments --check    # exit 1 if prefect.yaml is stale
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
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
    note: str = ""  # a comment above the deployment in prefect.yaml


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
        note="config: a new tiny model, as `clipflows train-clip` without --init; or {init: SPEC}",
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
        note="settings: the world CLIP, since the synthetic videos are world renders",
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
        note="settings: the world CLIP, the one the model was trained with",
    ),
    "demo": DeploymentSpec(
        flow="clipflows.flows.demo:demo_flow",
        parameters={"settings": WORLD_SETTINGS},
        cron="30 4 * * *",
        description="Daily smoke run of the offline demo (world CLIP, set difference, FuDD).",
        note="settings: the world CLIP, since the demo runs on world renders",
    ),
}

# prefect.yaml: the work pool its deployments go to, the Prefect version it is written for, and
# the comment that heads it (the deployments follow, rendered from DEPLOYMENTS).
WORK_POOL = "clipflows"
PREFECT_YAML = Path("prefect.yaml")
PREFECT_YAML_VERSION = "3.9.1"
PREFECT_YAML_HEADER = """\
# Prefect work-pool deployments of the clipflows workflows. GENERATED from the registry in
# flows/runtime/deployments.py (which `deploy/serve.py` serves): edit the registry, then run
#
#   python -m clipflows.flows.runtime.deployments      # from the repository root
#
# tests/test_deploy_files.py fails while this file differs from the registry's rendering.
# From the repository root, with PREFECT_API_URL set:
#
#   prefect work-pool create clipflows --type process      # once
#   prefect deploy --all                                   # or: prefect deploy -n nightly-embed
#   prefect worker start --pool clipflows                  # on every machine that runs flows
#
# Entrypoints are module paths of the installed package (pip install -e .), so a worker needs the
# package, not this checkout. No pull step is given: `prefect deploy` records the directory it
# ran from as the flow runs' working directory. Parameters point at /data/...: change them in the
# registry, in the UI, or per run (`prefect deployment run NAME --param set_a=/x`). Settings (CLIP
# spec, LLM backend, cache dir) come from the worker's CLIPFLOWS_* environment; a `settings`
# parameter overrides the ones it names (the deployments on world data name the world CLIP).
# Every parameter set is valid for its flow's signature (tests/test_deploy_files.py validates
# them).
"""


def render_prefect_yaml(deployments: dict[str, DeploymentSpec] | None = None) -> str:
    """prefect.yaml's text for ``deployments`` (the registry by default): each on the
    ``clipflows`` process work pool, with its entrypoint, description, parameters and cron."""
    import yaml  # a dependency of Prefect

    lines = [
        PREFECT_YAML_HEADER.rstrip("\n"),
        "name: clipflows",
        f"prefect-version: {PREFECT_YAML_VERSION}",
        "",
        "build: null",
        "push: null",
        "",
        "definitions:",
        "  work_pool: &clipflows-pool",
        f"    name: {WORK_POOL}",
        "    work_queue_name: default",
        "    job_variables: {}",
        "",
        "deployments:",
    ]
    for name, spec in (DEPLOYMENTS if deployments is None else deployments).items():
        if spec.note:
            lines.append(f"  # {spec.note}")
        lines += [
            f"  - name: {name}",
            f"    entrypoint: {spec.flow}",
            f"    description: {json.dumps(spec.description, ensure_ascii=False)}",
        ]
        if spec.parameters:
            lines.append("    parameters:")
        for key, value in spec.parameters.items():
            # One key at a time: a list or mapping of scalars on one line, the rest in blocks.
            nested = isinstance(value, (dict, list))
            dumped = yaml.safe_dump(
                {key: value}, sort_keys=False, default_flow_style=None if nested else False
            )
            lines += [f"      {line}" for line in dumped.splitlines()]
        if spec.cron:
            lines += ["    schedules:", f"      - cron: {json.dumps(spec.cron)}"]
        lines += ["    work_pool: *clipflows-pool", ""]
    return "\n".join(lines[:-1]) + "\n"


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


def main(argv: list[str] | None = None) -> int:
    """Write prefect.yaml from the registry, or with ``--check`` say whether it is stale."""
    parser = argparse.ArgumentParser(
        prog="python -m clipflows.flows.runtime.deployments",
        description="Render prefect.yaml's deployments from the registry in this module.",
    )
    parser.add_argument("path", nargs="?", type=Path, default=PREFECT_YAML)
    parser.add_argument("--check", action="store_true", help="exit 1 if PATH differs")
    args = parser.parse_args(argv)
    rendered = render_prefect_yaml()
    current = args.path.read_text(encoding="utf-8") if args.path.is_file() else None
    if args.check:
        if current == rendered:
            print(f"{args.path} matches the registry ({len(DEPLOYMENTS)} deployments)")
            return 0
        print(
            f"{args.path} differs from the registry: run python -m "
            "clipflows.flows.runtime.deployments",
            file=sys.stderr,
        )
        return 1
    if current != rendered:
        args.path.write_text(rendered, encoding="utf-8")
    print(f"{args.path}: {len(DEPLOYMENTS)} deployments from the registry")
    return 0


if __name__ == "__main__":
    sys.exit(main())
