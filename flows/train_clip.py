"""Prefect flows that train CLIP: on any image-caption folder, and the cached world model (a task)."""

from __future__ import annotations

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from clipflows.components.clip.training import ClipTrainConfig, TrainResult, train_clip
from clipflows.components.device import resolve_device
from clipflows.components.settings import Settings, load_settings
from clipflows.components.world.model import WorldClipRecipe, ensure_world_clip
from clipflows.flows.runtime.progress import log_progress


@task(name="train-clip-steps", retries=1)
def train_task(data: str, output: str, config: ClipTrainConfig, device: str) -> TrainResult:
    """Train on ``device`` (a settings name: 'auto' is resolved in the worker); a retry resumes
    from the last checkpoint instead of starting over."""
    return train_clip(
        data,
        output,
        config,
        device=resolve_device(device),
        progress=log_progress("training step"),
    )


@flow(name="train-clip", log_prints=True)
def train_clip_flow(
    data: str,
    output: str,
    config: ClipTrainConfig,
    device: str | None = None,
    settings: Settings | None = None,
) -> TrainResult:
    """Train or fine-tune an open_clip model on an image-caption folder; resumable. The device
    is ``device`` if given, else the settings' (``settings``, or those read from the environment)."""
    if device is None:
        device = (settings or load_settings()).device
    result = train_task(data, output, config, device)
    create_markdown_artifact(
        key="train-clip",
        markdown=(
            f"# CLIP training\n\n- data: `{data}`\n- output: `{output}` (spec `local-dir:{output}`)\n"
            f"- steps: {result.steps} (resumed from {result.resumed_from})\n"
            f"- final loss: {result.final_loss:.4f}\n- time: {result.seconds:.0f} s\n"
        ),
    )
    return result


@task(name="world-clip", retries=1)
def world_clip_task(settings: Settings, recipe: WorldClipRecipe | None = None) -> str:
    """The cached world CLIP's folder, trained on first use."""
    report = log_progress("world CLIP")
    return str(
        ensure_world_clip(
            settings.cache_dir,
            recipe,
            progress=lambda label, done, total: (
                report(done, total) if label.startswith("train") else None
            ),
        )
    )
