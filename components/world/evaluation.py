"""How well a CLIP knows the world: zero-shot colour x shape accuracy on held-out images, with
the world's own words and with words no training caption used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel
from scipy.special import softmax

from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.clip.zeroshot import ZeroShotClassifier
from clipflows.components.world.lexicon import HELD_OUT_WORDS, TRAINING_WORDS
from clipflows.components.world.scenes import WorldConfig, read_dataset, with_article, write_dataset

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


# How a class is worded: (colour word, shape word) -> phrase, for variant k of its words.
WORDINGS: dict[str, tuple[str, object]] = {
    "world words": ("{}", lambda c, s, k: f"{c} {s}"),
    "training words": (
        "{}",
        lambda c, s, k: f"{_pick(TRAINING_WORDS[c], k)} {_pick(TRAINING_WORDS[s], k)}",
    ),
    "held-out colour words": ("{}", lambda c, s, k: f"{HELD_OUT_WORDS[c][k]} {s}"),
    "held-out shape words": ("{}", lambda c, s, k: f"{c} {HELD_OUT_WORDS[s][k]}"),
    "held-out colour and shape words": (
        "{}",
        lambda c, s, k: f"{HELD_OUT_WORDS[c][k]} {HELD_OUT_WORDS[s][k]}",
    ),
    "held-out sentence": (
        "an image showing {} against a plain backdrop",
        lambda c, s, k: f"{c} {s}",
    ),
}


def _pick(words: tuple[str, ...], k: int) -> str:
    return words[k % len(words)]


class WordingAccuracy(BaseModel):
    wording: str
    accuracy: float  # mean over the two variants of the wording's words
    examples: list[str]


def paraphrase_accuracy(encoder: ClipEncoder, folder: Path) -> list[WordingAccuracy]:
    """Zero-shot accuracy over the 24 classes, each class worded in every way of WORDINGS
    (the held-out words never appear in a training caption: see world/lexicon.py)."""
    records = read_dataset(folder)
    config = WorldConfig.model_validate_json((folder / "world_config.json").read_text())
    classes = [(c, s) for c in config.colours for s in config.shapes]
    embedded = encoder.encode_images([folder / r.image for r in records])
    by_path = {str(folder / r.image): r.objects[0] for r in records}
    truth = np.array([classes.index((by_path[p].colour, by_path[p].shape)) for p in embedded.paths])
    vectors = embedded.vectors
    results = []
    for wording, (template, phrase) in WORDINGS.items():
        scores, examples = [], []
        for k in range(2):
            names = [with_article(phrase(c, s, k)) for c, s in classes]
            predicted = ZeroShotClassifier(encoder, names, (template,)).scores(vectors).argmax(1)
            scores.append(float((predicted == truth).mean()))
            examples.append(template.format(names[0]))
        results.append(
            WordingAccuracy(wording=wording, accuracy=float(np.mean(scores)), examples=examples)
        )
    return results
