"""What every ``clipflows`` command shares: the console, common options, settings, runners."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

if TYPE_CHECKING:
    from clipflows.components.provenance import Provenance
    from clipflows.components.settings import Settings

console = Console()

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Settings file (TOML or YAML); else CLIPFLOWS_CONFIG."),
]
ClipOption = Annotated[
    str | None, typer.Option("--clip", help="CLIP spec, e.g. world or ViT-B-32:laion2b_s34b_b79k.")
]

RunnerOption = Annotated[
    Literal["thread", "dask"],
    typer.Option(
        "--runner", help="Task runner: a thread pool, or a local Dask cluster (the deploy extra)."
    ),
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers", min=1, help="Threads (default 8), or Dask worker processes (default 2)."
    ),
]


def with_runner(flow, runner: Literal["thread", "dask"], workers: int | None):
    """``flow`` on the chosen task runner (see clipflows.flows.runtime.deployments); the flow as it is
    for the default thread pool."""
    from clipflows.flows.runtime.deployments import DEFAULT_THREADS, with_task_runner

    if runner == "thread" and workers is None:
        return flow
    default = DEFAULT_THREADS if runner == "thread" else 2
    return with_task_runner(flow, runner, workers or default)


def load_cli_settings(
    config: Path | None, clip: str | None = None, *, require_clip: bool = False
) -> Settings:
    """Settings from the file/env, with ``--clip`` on top when given; with ``require_clip``, a
    CLIP whose weights are not on this machine stops the command here, before anything starts."""
    from clipflows.components.settings import load_settings

    overrides = {"clip": clip} if clip else {}
    settings = load_settings(config, **overrides)
    if require_clip:
        from clipflows.components.clip.spec import parse_spec

        if parse_spec(settings.clip).kind != "named":  # named models train here: nothing to find
            from clipflows.components.clip.loading import require_weights  # imports torch

            require_weights(settings.clip)
    return settings


def print_evidence(warnings: list[str], provenance: Provenance, level: str | None = None) -> None:
    """What a result cannot be trusted for, the level it must beat (when there is one), and
    which models and settings made it."""
    for warning in warnings:
        console.print(f"[bold yellow]Warning:[/] {warning}", highlight=False)
    if level:
        console.print(level, highlight=False)
    console.print("Made with: " + "; ".join(provenance.lines()), highlight=False)
