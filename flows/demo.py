"""The demo: every workflow end to end on the embedded defaults, offline."""

from __future__ import annotations

from prefect import flow, task
from pydantic import BaseModel

from clipflows.components.clip import ClipEncoder
from clipflows.components.settings import Settings, load_settings
from clipflows.components.world_eval import WorldAccuracy, evaluate_world, held_out_set

from .train_clip import world_clip_task


class DemoResult(BaseModel):
    clip_spec: str
    world: WorldAccuracy


@task(name="world-zero-shot")
def world_zero_shot_task(settings: Settings, clip_spec: str) -> WorldAccuracy:
    """Zero-shot colour x shape accuracy of a CLIP on held-out world images."""
    encoder = ClipEncoder(clip_spec, settings=settings)
    folder = held_out_set(settings.cache_dir / "world-eval")
    return evaluate_world(encoder, folder)


@flow(name="demo")
def demo_flow(settings: Settings | None = None) -> DemoResult:
    """Train (once) and evaluate the world CLIP."""
    settings = settings or load_settings()
    clip_spec = settings.clip
    if clip_spec == "world":
        clip_spec = "local-dir:" + world_clip_task(settings)
    return DemoResult(clip_spec=clip_spec, world=world_zero_shot_task(settings, clip_spec))
