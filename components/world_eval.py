"""How well a CLIP knows the world: zero-shot colour x shape accuracy on held-out images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel
from scipy.special import softmax

from .clip import ClipEncoder
from .world import WorldConfig, read_dataset, with_article, write_dataset
from .zeroshot import ZeroShotClassifier

HELD_OUT_SEED = 1_000_003  # never used for training data
WORLD_TEMPLATES = ("{}.", "{} on a plain background.")


class WorldExample(BaseModel):
    image: str
    truth: str
    predicted: str
    confidence: float


class WorldAccuracy(BaseModel):
    images: int
    classes: int
    accuracy: float
    colour_accuracy: float
    shape_accuracy: float
    examples: list[WorldExample]


def held_out_set(folder: Path, count: int = 480, config: WorldConfig | None = None) -> Path:
    """Single-object world images from a seed that training never uses (written once)."""
    config = (config or WorldConfig()).model_copy(
        update={"seed": HELD_OUT_SEED, "min_objects": 1, "max_objects": 1}
    )
    if not (folder / "captions.jsonl").is_file():
        write_dataset(config, count, folder)
    return folder


def evaluate_world(encoder: ClipEncoder, folder: Path, examples: int = 6) -> WorldAccuracy:
    """Zero-shot accuracy over every colour x shape class of the world."""
    records = read_dataset(folder)
    config = WorldConfig.model_validate_json((folder / "world_config.json").read_text())
    names = [with_article(f"{c} {s}") for c in config.colours for s in config.shapes]
    classifier = ZeroShotClassifier(encoder, names, WORLD_TEMPLATES)
    embedded = encoder.encode_images([folder / r.image for r in records])
    by_path = {str(folder / r.image): r for r in records}
    truth = [
        with_article(f"{by_path[p].objects[0].colour} {by_path[p].objects[0].shape}")
        for p in embedded.paths
    ]
    scores = classifier.scores(embedded.vectors)
    probabilities = softmax(scores * 100.0, axis=1)
    predicted = [names[i] for i in scores.argmax(axis=1)]
    pairs = list(zip(truth, predicted, strict=True))
    return WorldAccuracy(
        images=len(pairs),
        classes=len(names),
        accuracy=float(np.mean([t == p for t, p in pairs])),
        colour_accuracy=float(np.mean([t.split()[-2] == p.split()[-2] for t, p in pairs])),
        shape_accuracy=float(np.mean([t.split()[-1] == p.split()[-1] for t, p in pairs])),
        examples=[
            WorldExample(
                image=Path(embedded.paths[i]).name,
                truth=truth[i],
                predicted=predicted[i],
                confidence=float(probabilities[i].max()),
            )
            for i in range(min(examples, len(pairs)))
        ],
    )
