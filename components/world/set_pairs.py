"""Pairs of world image sets that differ by one known attribute: set-difference ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from clipflows.components.set_difference.evaluation import JudgeFn, strict_keyword_judge
from clipflows.components.set_difference.ranking import Hypothesis
from clipflows.components.world.lexicon import plural, words_for
from clipflows.components.world.scenes import (
    BACKGROUNDS,
    COLOURS,
    COUNT_WORDS,
    SHAPES,
    SIZES,
    WorldConfig,
    write_dataset,
)


class WorldSetPair(BaseModel):
    """Two world configs, the true difference in words, and the attribute values true of each
    side (what the strict judge credits, in any of the lexicon's words)."""

    name: str
    difficulty: Literal["easy", "medium", "hard"]
    truth: str
    a: WorldConfig
    b: WorldConfig
    values_a: list[str]  # attribute values (or extra words) that name set A's side
    values_b: list[str]
    phrase_a: str  # the true difference as a caption-like phrase, for ranker checks
    phrase_b: str


# Words for counts and for colour groups, beside the lexicon's words for attribute values.
EXTRA_WORDS: dict[str, tuple[str, ...]] = {
    "one": ("single", "lone", "only one", "solitary"),
    "two": ("pair", "pairs", "two of"),
    "warm": ("warm", "warm coloured", "warm colored"),
    "cool": ("cool", "cool coloured", "cool colored"),
}

# name, difficulty, truth, set A config, set B config, true phrase A, true phrase B,
# the values (or extra words) that name each side
_PAIRS = [
    ("red-vs-blue", "easy", "red objects vs blue objects", {"colours": ["red"]},
     {"colours": ["blue"]}, "red shapes", "blue shapes", ["red"], ["blue"]),
    ("circles-vs-squares", "easy", "circles vs squares", {"shapes": ["circle"]},
     {"shapes": ["square"]}, "circles", "squares", ["circle"], ["square"]),
    ("white-vs-black-background", "easy", "white background vs black background",
     {"backgrounds": ["white"]}, {"backgrounds": ["black"]}, "a white background",
     "a black background", ["white"], ["black"]),
    ("green-vs-yellow", "easy", "green objects vs yellow objects", {"colours": ["green"]},
     {"colours": ["yellow"]}, "green shapes", "yellow shapes", ["green"], ["yellow"]),
    ("stars-vs-triangles", "medium", "stars vs triangles", {"shapes": ["star"]},
     {"shapes": ["triangle"]}, "stars", "triangles", ["star"], ["triangle"]),
    ("purple-vs-orange", "medium", "purple objects vs orange objects", {"colours": ["purple"]},
     {"colours": ["orange"]}, "purple shapes", "orange shapes", ["purple"], ["orange"]),
    ("gray-vs-white-background", "medium", "gray background vs white background",
     {"backgrounds": ["gray"]}, {"backgrounds": ["white"]}, "a gray background",
     "a white background", ["gray"], ["white"]),
    ("warm-vs-cool", "medium", "red or orange objects vs blue or purple objects",
     {"colours": ["red", "orange"]}, {"colours": ["blue", "purple"]}, "red shapes",
     "blue shapes", ["red", "orange", "warm"], ["blue", "purple", "cool"]),
    ("large-vs-small", "hard", "large objects vs small objects", {"sizes": ["large"]},
     {"sizes": ["small"]}, "large shapes", "small shapes", ["large"], ["small"]),
    ("two-vs-one", "hard", "two objects vs one object", {"min_objects": 2, "max_objects": 2},
     {"min_objects": 1, "max_objects": 1}, "two shapes", "one shape", ["two"], ["one"]),
    ("circles-vs-stars-on-gray", "hard", "circles vs stars",
     {"shapes": ["circle"], "backgrounds": ["gray"]}, {"shapes": ["star"], "backgrounds": ["gray"]},
     "circles", "stars", ["circle"], ["star"]),
]  # fmt: skip

WORLD_SET_PAIRS: list[WorldSetPair] = [
    WorldSetPair(
        name=name,
        difficulty=difficulty,
        truth=truth,
        a=WorldConfig(**a, seed=101),
        b=WorldConfig(**b, seed=202),
        phrase_a=phrase_a,
        phrase_b=phrase_b,
        values_a=values_a,
        values_b=values_b,
    )
    for name, difficulty, truth, a, b, phrase_a, phrase_b, values_a, values_b in _PAIRS
]


def naming_words(value: str) -> list[str]:
    """Every word that names a value: the lexicon's (plurals too, for shapes) or the extras."""
    words = list(EXTRA_WORDS.get(value, ())) or list(words_for(value))
    if value == "one":
        words.insert(0, "one")
    if value == "two":
        words.insert(0, "two")
    if value in SHAPES:
        words += [plural(w) for w in words]
    return words


def attribute_words() -> list[str]:
    """Every word that names any attribute value of the world (colours, shapes, sizes,
    backgrounds, counts, colour groups)."""
    values = [*COLOURS, *SHAPES, *SIZES, *BACKGROUNDS, *COUNT_WORDS.values(), *EXTRA_WORDS]
    return list(dict.fromkeys(w for value in values for w in naming_words(value)))


def world_judge(pair: WorldSetPair) -> JudgeFn:
    """The strict keyword judge for one pair: full credit only for a phrase that names the
    favoured side's attribute and no other attribute value (see set_difference.evaluation)."""
    true = {
        "A": [w for v in pair.values_a for w in naming_words(v)],
        "B": [w for v in pair.values_b for w in naming_words(v)],
    }
    return strict_keyword_judge(true, attribute_words())


def candidate_pool(pair: WorldSetPair) -> list[Hypothesis]:
    """The true phrases of a pair among distractors in both directions: checks the ranker alone."""
    distractors = ["large shapes", "a white background", "green stars", "a small triangle"]
    pool = [
        Hypothesis(text=pair.phrase_a, direction="A"),
        Hypothesis(text=pair.phrase_b, direction="B"),
    ]
    pool += [Hypothesis(text=d, direction=side) for d in distractors for side in ("A", "B")]
    return list(dict.fromkeys(pool))


def write_pair(pair: WorldSetPair, folder: Path, count: int = 60) -> tuple[Path, Path]:
    """Render both sets of a pair (once) and return their image folders."""
    folders = []
    for label, config in (("a", pair.a), ("b", pair.b)):
        root = folder / pair.name / label
        if not (root / "captions.jsonl").is_file():
            write_dataset(config, count, root)
        folders.append(root / "images")
    return folders[0], folders[1]
