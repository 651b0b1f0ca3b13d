"""A world classification task whose class names are ambiguous until described.

Classes are colour x shape; each name gives the colour in English and the shape in another
language. The dev naming (Italian, French, German: "red cerchio" is a red circle, "blue Stern" a
blue star) is where prompts are chosen; the test naming (Spanish, Dutch: "red círculo", "blue
driehoek") is only read to report. The LLM is told what a user would say of the pictures
(:data:`WORLD_CONTEXT`), never which shapes they may show. The world CLIP reads
English only (its text tower is all-MiniLM-L6-v2), so it gets the colour from the name and must
guess the shape, while a multilingual LLM knows the words; a description such as "a red circle"
resolves the ambiguity. Measured: the English-side CLIP gives "cerchio", "carre", "Dreieck" and
"Stern" their shape's prompt at most 20 % of the time, and Qwen2.5-Coder-1.5B names all four.
(Everyday things "of that shape" were tried first: a language-aware tower read coin, tile,
pennant and starfish at once, and the things it misread, the 1.5B LLM did not know.)
Descriptions built from the world's known attributes are an oracle: they test that the machinery
turns good descriptions into accuracy, not that an LLM writes good ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from clipflows.components.classification.datasets import LabelledImages
from clipflows.components.classification.descriptions import DescriptionBook, DifferentialEntry
from clipflows.components.world.scenes import WorldConfig, read_dataset, with_article, write_dataset

Naming = Literal["dev", "test"]
SHAPE_NOUNS: dict[Naming, dict[str, str]] = {
    "dev": {"circle": "cerchio", "square": "carré", "triangle": "Dreieck", "star": "Stern"},
    "test": {"circle": "círculo", "square": "vierkant", "triangle": "driehoek", "star": "estrella"},
}
# What a user would write about these pictures: no list of the shapes they may show.
WORLD_CONTEXT = "pictures of a single coloured object on a plain background"
CLASS_TASK_SEED = 2_000_003  # distinct from training and the other held-out sets


def world_class_names(config: WorldConfig | None = None, naming: Naming = "dev") -> list[str]:
    config = config or WorldConfig()
    nouns = SHAPE_NOUNS[naming]
    return [f"{c} {nouns[s]}" for c in config.colours for s in config.shapes]


def _attributes(name: str) -> tuple[str, str]:
    colour, noun = name.split(" ", 1)
    shapes = {v: k for nouns in SHAPE_NOUNS.values() for k, v in nouns.items()}
    return colour, shapes[noun]


def world_class_task(
    folder: Path, count: int = 480, config: WorldConfig | None = None, naming: Naming = "dev"
) -> LabelledImages:
    """Single-object images labelled with their class (written once, then reused); ``naming``
    picks the languages of the shape words."""
    config = (config or WorldConfig()).model_copy(
        update={"seed": CLASS_TASK_SEED, "min_objects": 1, "max_objects": 1}
    )
    if not (folder / "captions.jsonl").is_file():
        write_dataset(config, count, folder)
    names = world_class_names(config, naming)
    nouns = SHAPE_NOUNS[naming]
    records = read_dataset(folder)
    labels = [names.index(f"{r.objects[0].colour} {nouns[r.objects[0].shape]}") for r in records]
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


class WorldOracle(BaseModel, frozen=True):
    """The world's ground truth written as descriptions, both kinds a classification run asks
    an LLM for: a ceiling for the LLM's, on the world's classes only."""

    def pair_book(self, class_names: list[str], pairs: list[tuple[int, int]]) -> DescriptionBook:
        """Differential descriptions of the given class pairs."""
        return world_description_book(class_names, pairs)

    def generic(self, class_names: list[str]) -> list[list[str]]:
        """Generic descriptions of each class."""
        return world_generic_descriptions(class_names)
