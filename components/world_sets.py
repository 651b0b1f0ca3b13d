"""Pairs of world image sets that differ by one known attribute: set-difference ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from .world import WorldConfig, write_dataset


class WorldSetPair(BaseModel):
    """Two world configs, the true difference in words, and the phrases true of each side."""

    name: str
    difficulty: Literal["easy", "medium", "hard"]
    truth: str
    a: WorldConfig
    b: WorldConfig
    words_a: list[str]
    words_b: list[str]


def _pair(name, difficulty, truth, a: dict, b: dict, words_a, words_b) -> WorldSetPair:
    return WorldSetPair(
        name=name,
        difficulty=difficulty,
        truth=truth,
        a=WorldConfig(**a, seed=101),
        b=WorldConfig(**b, seed=202),
        words_a=words_a,
        words_b=words_b,
    )


WORLD_SET_PAIRS: list[WorldSetPair] = [
    _pair(
        "red-vs-blue",
        "easy",
        "red objects vs blue objects",
        {"colours": ["red"]},
        {"colours": ["blue"]},
        ["red"],
        ["blue"],
    ),
    _pair(
        "circles-vs-squares",
        "easy",
        "circles vs squares",
        {"shapes": ["circle"]},
        {"shapes": ["square"]},
        ["circle", "circles"],
        ["square", "squares"],
    ),
    _pair(
        "white-vs-black-background",
        "easy",
        "white background vs black background",
        {"backgrounds": ["white"]},
        {"backgrounds": ["black"]},
        ["white"],
        ["black"],
    ),
    _pair(
        "green-vs-yellow",
        "easy",
        "green objects vs yellow objects",
        {"colours": ["green"]},
        {"colours": ["yellow"]},
        ["green"],
        ["yellow"],
    ),
    _pair(
        "stars-vs-triangles",
        "medium",
        "stars vs triangles",
        {"shapes": ["star"]},
        {"shapes": ["triangle"]},
        ["star", "stars"],
        ["triangle", "triangles"],
    ),
    _pair(
        "purple-vs-orange",
        "medium",
        "purple objects vs orange objects",
        {"colours": ["purple"]},
        {"colours": ["orange"]},
        ["purple"],
        ["orange"],
    ),
    _pair(
        "gray-vs-white-background",
        "medium",
        "gray background vs white background",
        {"backgrounds": ["gray"]},
        {"backgrounds": ["white"]},
        ["gray"],
        ["white"],
    ),
    _pair(
        "warm-vs-cool",
        "medium",
        "red or orange objects vs blue or purple objects",
        {"colours": ["red", "orange"]},
        {"colours": ["blue", "purple"]},
        ["red", "orange"],
        ["blue", "purple"],
    ),
    _pair(
        "large-vs-small",
        "hard",
        "large objects vs small objects",
        {"sizes": ["large"]},
        {"sizes": ["small"]},
        ["large"],
        ["small"],
    ),
    _pair(
        "two-vs-one",
        "hard",
        "two objects vs one object",
        {"min_objects": 2, "max_objects": 2},
        {"min_objects": 1, "max_objects": 1},
        ["two"],
        ["one"],
    ),
    _pair(
        "circles-vs-stars-on-gray",
        "hard",
        "circles vs stars",
        {"shapes": ["circle"], "backgrounds": ["gray"]},
        {"shapes": ["star"], "backgrounds": ["gray"]},
        ["circle", "circles"],
        ["star", "stars"],
    ),
]


def write_pair(pair: WorldSetPair, folder: Path, count: int = 60) -> tuple[Path, Path]:
    """Render both sets of a pair (once) and return their image folders."""
    folders = []
    for label, config in (("a", pair.a), ("b", pair.b)):
        root = folder / pair.name / label
        if not (root / "captions.jsonl").is_file():
            write_dataset(config, count, root)
        folders.append(root / "images")
    return folders[0], folders[1]
