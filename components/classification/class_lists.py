"""Which classes a description file means: class names matched across spellings, and the class
lists FuDD ships beside its files (the order their indices count classes in)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clipflows.components.errors import ClipflowsError


class DescriptionFileError(ClipflowsError):
    """A differential-description file that cannot be read for these classes."""


def class_name_key(name: str) -> str:
    """How class names are compared: FuDD's lists and folder names differ in case, underscores
    and spacing ("Siamese_cat", "siamese cat")."""
    return " ".join(name.replace("_", " ").split()).casefold()


def class_list_beside(path: str | Path) -> Path | None:
    """The class list FuDD ships beside a description file: ``pets_class_names.json`` beside
    ``pets_prompt_pairs.json`` (or ``<file stem>_class_names.json``), if there is one."""
    path = Path(path)
    stems = dict.fromkeys((path.stem.removesuffix("_prompt_pairs"), path.stem))
    candidates = [path.with_name(f"{stem}_class_names.json") for stem in stems]
    return next((c for c in candidates if c.is_file()), None)


def read_class_list(path: str | Path) -> list[str]:
    """Class names in the order a description file's indices count them: a JSON list of names
    (FuDD's ``<dataset>_class_names.json``) or a text file with one name a line."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        try:
            return [line.strip() for line in path.read_text().splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as error:
            raise DescriptionFileError(f"Cannot read the class list {path}: {error}") from None
    names = read_json(path, "class list")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DescriptionFileError(
            f"{path}: a class list is a JSON list of class names, in the order the description "
            "file's indices count them."
        )
    return names


def read_json(path: Path, what: str) -> Any:
    """The JSON in a file, or one DescriptionFileError saying which file and why not."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DescriptionFileError(f"No {what} at {path}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DescriptionFileError(f"{path} is not a JSON {what}: {error}") from None


class ClassMatch:
    """Maps a description file's classes (names, or indices into its class list) to the
    dataset's class indices by name, and refuses a file made for other classes."""

    def __init__(
        self,
        path: Path,
        class_names: Sequence[str],
        file_classes: Sequence[str] | None,
        source: str,
    ) -> None:
        self.path, self.source = path, source
        self.class_names = list(class_names)
        self.dataset = {class_name_key(n): index for index, n in enumerate(class_names)}
        self.file_classes = None if file_classes is None else list(file_classes)
        if self.file_classes is not None:
            self._check_class_list(self.file_classes)

    def _check_class_list(self, file_classes: list[str]) -> None:
        listed = [class_name_key(n) for n in file_classes]
        missing = [n for n in self.class_names if class_name_key(n) not in listed]
        if missing:
            only_listed = [n for n in file_classes if class_name_key(n) not in self.dataset]
            raise DescriptionFileError(
                f"{self.path} was written for other classes: {len(missing)} of the dataset's "
                f"{len(self.class_names)} classes are not in its class list ({self.source}), "
                f"e.g. {missing[:5]}; classes only it has: {only_listed[:5]}. Use descriptions "
                "written for this dataset's classes, or give the class list the file was "
                "written with, spelled as the dataset's classes."
            )
        twice = sorted({n for n in listed if listed.count(n) > 1 and n in self.dataset})
        if twice:
            raise DescriptionFileError(
                f"{self.source} names {twice[:5]} more than once, so {self.path}'s pairs of "
                "those classes cannot be told apart. Give each class a distinct name."
            )

    def pair(self, key: str, i: int, j: int, listed: list) -> tuple[int, int] | None:
        """The dataset indices of the entry's two classes, in the entry's order; None when the
        pair involves a class only the file's class list holds."""
        if any(isinstance(c, int) and (isinstance(c, bool) or c not in (i, j)) for c in listed):
            raise DescriptionFileError(
                f"{self.path}: pair {key!r} lists classes {listed}, not the pair {i} and {j}."
            )
        if self.file_classes is not None and not (
            0 <= i < len(self.file_classes) and 0 <= j < len(self.file_classes) and i != j
        ):
            raise DescriptionFileError(
                f"{self.path}: pair {key!r} is outside the {len(self.file_classes)} classes "
                f"of its class list ({self.source})."
            )
        names = [self._name(c, key) for c in listed]
        if self.file_classes is not None:
            by_index = {class_name_key(self.file_classes[i]), class_name_key(self.file_classes[j])}
            if {class_name_key(n) for n in names} != by_index:
                raise DescriptionFileError(
                    f"{self.path}: pair {key!r} names classes {names}, but {self.source} has "
                    f"{[self.file_classes[i], self.file_classes[j]]} at {i} and {j}: that list "
                    "is not the one this file was written with. Remove it, or give the right "
                    "one."
                )
        indices = [self.dataset.get(class_name_key(n)) for n in names]
        if None in indices:
            if self.file_classes is not None:
                return None  # a class the file's list has and this dataset does not
            unknown = names[indices.index(None)]
            raise DescriptionFileError(
                f"{self.path} was written for other classes: pair {key!r} names class "
                f"{unknown!r}, which is not among the dataset's {len(self.class_names)} classes "
                f"(e.g. {self.class_names[:5]}). Use descriptions written for these classes, or "
                "rename the classes to the names the file uses."
            )
        if indices[0] == indices[1]:
            raise DescriptionFileError(
                f"{self.path}: pair {key!r} names one class twice ({names[0]!r})."
            )
        return indices[0], indices[1]

    def _name(self, value: object, key: str) -> str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise DescriptionFileError(
                f"{self.path}: pair {key!r} lists class {value!r}; a class is a name or an index."
            )
        if isinstance(value, str):
            return value
        if self.file_classes is not None and isinstance(value, int):
            return self.file_classes[value]
        stem = self.path.stem.removesuffix("_prompt_pairs")
        raise DescriptionFileError(
            f"{self.path}: pair {key!r} refers to its classes by index only, and no class list "
            "says which classes those are. FuDD counts classes in the order of the dataset the "
            "file was made for, which need not be this dataset's (a folder per class is "
            "counted in sorted folder order), so the descriptions could land on other "
            f"classes. Put the file's class list beside it as {stem}_class_names.json (FuDD "
            "ships one per dataset), or give it with --description-classes."
        )
