"""A world classification task whose class names are ambiguous until described.

Classes are colour x shape, but each shape goes by an everyday thing of that shape ("red coin"
is a red circle): words the world CLIP never saw, while any capable LLM knows that a coin is
round. The CLIP gets the colour from the name and must guess the shape, so every image's
ambiguity set holds the same-colour classes; a description such as "a red circle" resolves it.
Descriptions built from the world's known attributes are an oracle: they test that the machinery
turns good descriptions into accuracy, not that an LLM writes good ones.
"""

from __future__ import annotations

from pathlib import Path

from .class_datasets import LabelledImages
from .differential_descriptions import DescriptionBook, DifferentialEntry
from .world import WorldConfig, read_dataset, with_article, write_dataset

SHAPE_NOUNS = {"circle": "coin", "square": "tile", "triangle": "pennant", "star": "starfish"}
WORLD_CONTEXT = (
    "pictures of one coloured flat shape (a circle, square, triangle or star) on a plain "
    "background; each class is named after an everyday thing of that shape"
)
CLASS_TASK_SEED = 2_000_003  # distinct from training and the other held-out sets


def world_class_names(config: WorldConfig | None = None) -> list[str]:
    config = config or WorldConfig()
    return [f"{c} {SHAPE_NOUNS[s]}" for c in config.colours for s in config.shapes]


def _attributes(name: str) -> tuple[str, str]:
    colour, noun = name.split()
    shape = {v: k for k, v in SHAPE_NOUNS.items()}[noun]
    return colour, shape


def world_class_task(
    folder: Path, count: int = 480, config: WorldConfig | None = None
) -> LabelledImages:
    """Single-object images labelled with their class (written once, then reused)."""
    config = (config or WorldConfig()).model_copy(
        update={"seed": CLASS_TASK_SEED, "min_objects": 1, "max_objects": 1}
    )
    if not (folder / "captions.jsonl").is_file():
        write_dataset(config, count, folder)
    names = world_class_names(config)
    records = read_dataset(folder)
    labels = [
        names.index(f"{r.objects[0].colour} {SHAPE_NOUNS[r.objects[0].shape]}") for r in records
    ]
    return LabelledImages(
        paths=[str(folder / r.image) for r in records],
        labels=labels,
        class_names=names,
        context=WORLD_CONTEXT,
    )


def world_differential_entries(first: str, second: str) -> list[DifferentialEntry]:
    """One entry per attribute on which two world classes differ, from ground truth."""
    (colour_a, shape_a), (colour_b, shape_b) = _attributes(first), _attributes(second)
    entries = []
    for attribute, differs in (("shape", shape_a != shape_b), ("colour", colour_a != colour_b)):
        if differs:
            entries.append(
                DifferentialEntry(
                    attr_type=attribute,
                    description_a=with_article(f"{colour_a} {shape_a}"),
                    description_b=with_article(f"{colour_b} {shape_b}"),
                )
            )
    return entries


def world_description_book(class_names: list[str], pairs: list[tuple[int, int]]) -> DescriptionBook:
    """The oracle's differential descriptions for the given pairs."""
    book = DescriptionBook(class_names=class_names)
    for i, j in pairs:
        book.add(
            class_names[i],
            class_names[j],
            world_differential_entries(class_names[i], class_names[j]),
        )
    return book


def world_generic_descriptions(class_names: list[str]) -> list[list[str]]:
    """DCLIP-style descriptions per class: the class name 'which is' each of its attributes."""
    described = []
    for name in class_names:
        colour, shape = _attributes(name)
        described.append(
            [
                f"{with_article(name)}, which is {colour}",
                f"{with_article(name)}, which is {with_article(shape)}",
            ]
        )
    return described
