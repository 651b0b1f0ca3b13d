"""Differential class descriptions: how two classes differ, one attribute at a time.

The on-disk format is FuDD's released one, read and written unchanged::

    {"3_7": {"classes": [<class 3>, <class 7>],
             "prompt_pairs": [{"attr_type": "ear shape",
                               "prompt_pair": ["<about class 3>", "<about class 7>"]}]}}

Keys are class indices ordered min_max; ``classes`` may hold indices or names. Indices count
the classes of the dataset the file was made for, in that dataset's order, which FuDD ships
beside each file as a class list (``pets_class_names.json`` beside ``pets_prompt_pairs.json``).
Classes are matched by name, so a file made in another class order lands each description on its
class; names are written, so a file says which classes it was made for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from clipflows.components.classification.class_lists import (
    ClassMatch,
    DescriptionFileError,
    class_list_beside,
    read_class_list,
    read_json,
)
from clipflows.components.clip.text import fit_to_context
from clipflows.components.files import write_text_whole


class DifferentialEntry(BaseModel):
    """One attribute on which two classes differ, described for each class."""

    attr_type: str
    description_a: str  # about the first class of the pair
    description_b: str  # about the second class of the pair

    def swapped(self) -> DifferentialEntry:
        return DifferentialEntry(
            attr_type=self.attr_type,
            description_a=self.description_b,
            description_b=self.description_a,
        )


class DescriptionBook(BaseModel):
    """Differential descriptions for pairs of classes, stored with the lower index first."""

    class_names: list[str]
    pairs: dict[tuple[int, int], list[DifferentialEntry]] = Field(default_factory=dict)

    def index(self, name: str) -> int:
        try:
            return self.class_names.index(name)
        except ValueError:
            raise DescriptionFileError(
                f"Class {name!r} is not one of this book's classes."
            ) from None

    def add(self, class_a: str, class_b: str, entries: Sequence[DifferentialEntry]) -> None:
        """Store entries written as (class_a, class_b), reordered to the canonical min_max."""
        i, j = self.index(class_a), self.index(class_b)
        if i == j:
            raise ValueError(f"A pair needs two different classes, got {class_a!r} twice.")
        self.pairs[pair_index(i, j)] = [e if i < j else e.swapped() for e in entries]

    def entries_for(self, class_a: str, class_b: str) -> list[DifferentialEntry]:
        """The pair's entries written as (class_a, class_b), whichever way they are stored."""
        i, j = self.index(class_a), self.index(class_b)
        entries = self.pairs.get(pair_index(i, j), [])
        return [e if i < j else e.swapped() for e in entries]

    def only(self, pairs: Iterable[tuple[int, int]]) -> DescriptionBook:
        """The book reduced to the described pairs among ``pairs`` (any order of each pair)."""
        wanted = {pair_index(i, j) for i, j in pairs}
        kept = {p: entries for p, entries in self.pairs.items() if p in wanted and entries}
        return DescriptionBook(class_names=self.class_names, pairs=kept)

    def descriptions_of(self, i: int, j: int) -> tuple[list[str], list[str]]:
        """(descriptions of class i, descriptions of class j) from the pair's entries."""
        entries = self.pairs.get(pair_index(i, j), [])
        first = [e.description_a for e in entries]
        second = [e.description_b for e in entries]
        return (first, second) if i < j else (second, first)

    def missing(self, pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """The canonical pairs among ``pairs`` that have no entries yet."""
        wanted = {pair_index(i, j) for i, j in pairs}
        return sorted(p for p in wanted if not self.pairs.get(p))


def pair_index(i: int, j: int) -> tuple[int, int]:
    """How a book stores a pair of class indices: the lower first."""
    return (min(i, j), max(i, j))


def pair_key(i: int, j: int) -> str:
    low, high = pair_index(i, j)
    return f"{low}_{high}"


def to_fudd_json(book: DescriptionBook) -> dict:
    """The book in FuDD's file format."""
    return {
        pair_key(i, j): {
            "classes": [book.class_names[i], book.class_names[j]],
            "prompt_pairs": [
                {"attr_type": e.attr_type, "prompt_pair": [e.description_a, e.description_b]}
                for e in entries
            ],
        }
        for (i, j), entries in sorted(book.pairs.items())
    }


def fudd_file_text(book: DescriptionBook) -> str:
    """The book as the text of a FuDD description file."""
    return json.dumps(to_fudd_json(book), indent=1, ensure_ascii=False)


def write_fudd_file(book: DescriptionBook, path: str | Path) -> Path:
    """Write the book as a FuDD description file, whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text_whole(fudd_file_text(book), path)


def read_fudd_file(
    path: str | Path,
    class_names: Sequence[str],
    file_classes: Sequence[str] | None = None,
) -> DescriptionBook:
    """Read a FuDD description file for ``class_names`` (the dataset's class order), matching
    classes by name, never by position.

    A pair's classes are named in its entry (as clipflows writes them) or are indices into the
    class order of the dataset the file was made for: ``file_classes``, else the class list
    FuDD ships beside the file (``<dataset>_class_names.json``); indices with no class list are
    refused. So are a class list that lacks a class of the dataset and an entry naming a class
    the dataset lacks; pairs of classes that only the file's class list holds (a file for more
    classes than the dataset's) are left out.
    """
    path = Path(path)
    data = read_json(path, "description file")
    if not isinstance(data, dict):
        raise DescriptionFileError(
            f"{path}: expected an object keyed 'i_j', got {type(data).__name__}."
        )
    source = "the class list given"
    if file_classes is None and (beside := class_list_beside(path)) is not None:
        file_classes, source = read_class_list(beside), str(beside)
    match = ClassMatch(path, class_names, file_classes, source)
    book = DescriptionBook(class_names=list(class_names))
    for key, value in data.items():
        try:
            i, j = (int(part) for part in key.split("_"))
            entries = [
                DifferentialEntry(
                    attr_type=str(item.get("attr_type", "")),
                    description_a=str(item["prompt_pair"][0]),
                    description_b=str(item["prompt_pair"][1]),
                )
                for item in value["prompt_pairs"]
            ]
            listed = list(value.get("classes", [i, j]))
            if len(listed) != 2:
                raise ValueError(f"'classes' holds {len(listed)} classes, not 2")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
            raise DescriptionFileError(f"{path}: entry {key!r} is malformed ({error!r}).") from None
        pair = match.pair(key, i, j, listed)
        if pair is None:
            continue
        # prompt_pair[0] describes classes[0]; the book keeps the lower index first.
        first, second = pair
        book.pairs[(min(pair), max(pair))] = [e if first < second else e.swapped() for e in entries]
    return book


def fit_book_to_context(book: DescriptionBook, tokenizer: Any) -> int:
    """Cut every description to the text encoder's context, at a word boundary; returns how
    many descriptions were cut."""
    cut = 0
    for pair, entries in book.pairs.items():
        fitted = []
        for entry in entries:
            a, cut_a = fit_to_context(entry.description_a, tokenizer)
            b, cut_b = fit_to_context(entry.description_b, tokenizer)
            cut += cut_a + cut_b
            fitted.append(
                DifferentialEntry(attr_type=entry.attr_type, description_a=a, description_b=b)
            )
        book.pairs[pair] = fitted
    return cut
