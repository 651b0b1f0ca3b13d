"""Differential class descriptions: how two classes differ, one attribute at a time.

The on-disk format is FuDD's released one, read and written unchanged::

    {"3_7": {"classes": [<class 3>, <class 7>],
             "prompt_pairs": [{"attr_type": "ear shape",
                               "prompt_pair": ["<about class 3>", "<about class 7>"]}]}}

Keys are class indices ordered min_max; ``classes`` may hold indices or names (both are read;
names are written, so a file says which classes it was made for).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from .atomic_files import write_text_whole
from .errors import ClipflowsError


class DescriptionFileError(ClipflowsError):
    """A differential-description file that cannot be read for these classes."""


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
        self.pairs[(min(i, j), max(i, j))] = [e if i < j else e.swapped() for e in entries]

    def descriptions_of(self, i: int, j: int) -> tuple[list[str], list[str]]:
        """(descriptions of class i, descriptions of class j) from the pair's entries."""
        entries = self.pairs.get((min(i, j), max(i, j)), [])
        first = [e.description_a for e in entries]
        second = [e.description_b for e in entries]
        return (first, second) if i < j else (second, first)

    def missing(self, pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """The canonical pairs among ``pairs`` that have no entries yet."""
        wanted = {(min(i, j), max(i, j)) for i, j in pairs}
        return sorted(p for p in wanted if not self.pairs.get(p))


def pair_key(i: int, j: int) -> str:
    return f"{min(i, j)}_{max(i, j)}"


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


def write_fudd_file(book: DescriptionBook, path: str | Path) -> Path:
    """Write atomically: a temporary file renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_whole(json.dumps(to_fudd_json(book), indent=1, ensure_ascii=False), path)
    return path


def read_fudd_file(path: str | Path, class_names: Sequence[str]) -> DescriptionBook:
    """Read a FuDD description file for ``class_names`` (the dataset's class order)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DescriptionFileError(f"No description file at {path}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DescriptionFileError(f"{path} is not a JSON description file: {error}") from None
    if not isinstance(data, dict):
        raise DescriptionFileError(
            f"{path}: expected an object keyed 'i_j', got {type(data).__name__}."
        )
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
            listed = value.get("classes", [i, j])
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
            raise DescriptionFileError(f"{path}: entry {key!r} is malformed ({error!r}).") from None
        if not (0 <= i < len(class_names) and 0 <= j < len(class_names)) or i == j:
            raise DescriptionFileError(
                f"{path}: pair {key!r} is outside the {len(class_names)} classes given."
            )
        first = _class_index(listed[0], class_names, path, key)
        if first not in (i, j) or _class_index(listed[1], class_names, path, key) not in (i, j):
            raise DescriptionFileError(f"{path}: pair {key!r} lists classes {listed}.")
        # prompt_pair[0] describes classes[0], which FuDD writes as the lower index.
        book.pairs[(min(i, j), max(i, j))] = [
            e if first == min(i, j) else e.swapped() for e in entries
        ]
    return book


def _class_index(value: object, class_names: Sequence[str], path: Path, key: str) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value in class_names:
        return list(class_names).index(value)
    raise DescriptionFileError(
        f"{path}: pair {key!r} names class {value!r}, which is not among the classes given "
        "(are the class names in the same order and spelling as when the file was written?)."
    )
