"""Mix-and-separate: random training mixtures of two classes, and a fixed held-out mixture set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from clipflows.components.audio import AudioConfig, write_audio
from clipflows.components.separation.sources import (
    SourcesConfig,
    SourceSplit,
    active,
    build_sources,
    crop,
)


class Mixture(BaseModel):
    """Two sources (already scaled) and their classes; the mixture is their sum."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    classes: tuple[int, int]
    sources: np.ndarray  # [2, samples]

    @property
    def mix(self) -> np.ndarray:
        return self.sources.sum(axis=0)


def _source(split: SourceSplit, part: str, length: int, rng: np.random.Generator) -> np.ndarray:
    audio = split.train if part == "train" else split.test
    for _ in range(20):  # skip near-silent crops (pauses between barks)
        piece = crop(audio, length, rng)
        if active(piece):
            break
    peak = float(np.abs(piece).max()) or 1.0
    return piece / peak * rng.uniform(0.3, 0.8)  # level augmentation


def sample_mixture(
    splits: list[SourceSplit], length: int, rng: np.random.Generator, part: str = "train"
) -> Mixture:
    """Two different classes, a random crop of each, random gains."""
    first, second = rng.choice(len(splits), size=2, replace=False)
    sources = np.stack([_source(splits[c], part, length, rng) for c in (first, second)])
    return Mixture(classes=(int(first), int(second)), sources=sources.astype(np.float32))


def held_out_mixtures(
    splits: list[SourceSplit], length: int, count: int, seed: int = 12345
) -> list[Mixture]:
    """A fixed, seeded set of mixtures made only from the held-out audio of each class."""
    rng = np.random.default_rng(seed)
    return [sample_mixture(splits, length, rng, part="test") for _ in range(count)]


def demo_mixture(
    folder: Path, sources: SourcesConfig, audio: AudioConfig, cache_dir: Path | None = None
) -> tuple[Path, np.ndarray]:
    """A held-out dog recording mixed with held-out violin, written to ``folder``; returns the
    file and the dog's part of it (the reference for a "dog" query)."""
    splits = {s.name: s for s in build_sources(sources, audio.sample_rate, cache_dir)}
    length = audio.clip_samples
    dog = 0.5 * splits["dog"].test[:length]
    violin = 0.3 * splits["violin"].test[:length]
    path = write_audio(folder / "dog-and-violin.wav", dog + violin, audio.sample_rate)
    return path, dog
