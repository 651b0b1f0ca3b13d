"""The ``world`` CLIP: a tiny open_clip model trained once on the procedural world and cached.

The cache key is a hash of the whole recipe (world, data size, architecture, training), so a
changed recipe trains a new model and an unchanged one is never trained twice, even when two
processes ask at once (a file lock serialises them).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from filelock import FileLock

from clipflows.components.clip.training import train_clip
from clipflows.components.settings import Settings
from clipflows.components.world.recipe import (  # re-exported: the recipe is part of the model
    TINY_ARCHITECTURE,
    WORLD_ARCHITECTURE,
    WorldClipRecipe,
    world_clip_dir,
)
from clipflows.components.world.scenes import write_dataset

__all__ = [
    "TINY_ARCHITECTURE",
    "WORLD_ARCHITECTURE",
    "WorldClipRecipe",
    "ensure_world_clip",
    "resolve_world_spec",
    "world_clip_dir",
]


def ensure_world_clip(
    cache_dir: Path,
    recipe: WorldClipRecipe | None = None,
    *,
    device: str = "cpu",
    progress: Callable[[str, int, int], None] | None = None,
) -> Path:
    """Return the world model's local-dir, generating data and training it first if needed."""
    recipe = recipe or WorldClipRecipe()
    root = world_clip_dir(cache_dir, recipe)
    model_dir = root / "model"
    if (model_dir / "open_clip_config.json").is_file():
        return model_dir
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".lock")):
        if (model_dir / "open_clip_config.json").is_file():
            return model_dir
        data_dir = root / "data"
        if not (data_dir / "captions.jsonl").is_file():
            write_dataset(
                recipe.world,
                recipe.train_images,
                data_dir,
                progress=(lambda i, n: progress("world images", i, n)) if progress else None,
            )
        train_clip(
            data_dir,
            model_dir,
            recipe.training,
            device=device,
            progress=(lambda s, n, _loss: progress("training steps", s, n)) if progress else None,
        )
    return model_dir


def resolve_world_spec(settings: Settings, device: torch.device) -> str:
    """The named spec ``world`` (see ``clip.named``): the cached model's local-dir."""
    return f"local-dir:{ensure_world_clip(settings.cache_dir, device=str(device))}"
