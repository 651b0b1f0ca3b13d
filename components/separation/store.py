"""The default separators, trained once on the offline sounds and cached by their config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from clipflows.components.separation.sources import build_sources
from clipflows.components.separation.training import MODEL, SeparationTrainConfig, train_separator
from clipflows.components.settings import Settings

# Small enough to train in a few minutes on two CPU cores (see docs/separation.md for its measured quality).
DEFAULT_SEPARATOR = SeparationTrainConfig()


def separator_dir(cache_dir: Path, config: SeparationTrainConfig) -> Path:
    return cache_dir / "separators" / config.key()


def ensure_separator(
    settings: Settings,
    config: SeparationTrainConfig = DEFAULT_SEPARATOR,
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """The trained model's folder, training it first when this config has none yet."""
    folder = separator_dir(settings.cache_dir, config)
    if (folder / MODEL).is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".lock")):
        if not (folder / MODEL).is_file():
            from clipflows.components.separation.query_encoders import query_encoder

            splits = build_sources(config.sources, config.audio.sample_rate, settings.cache_dir)
            queries = query_encoder(config.query_encoder, settings).encode_texts(
                [s.query for s in splits]
            )
            train_separator(config, splits, queries, folder, progress)
    return folder
