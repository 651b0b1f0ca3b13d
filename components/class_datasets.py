"""Labelled image datasets for classification: an image folder per class, or a CSV of path,label."""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import BaseModel

from .errors import EmptyInputError, SpecError
from .images import list_images


class LabelledImages(BaseModel):
    """Images with integer labels into ``class_names``; ``context`` tells an LLM what they are."""

    paths: list[str]
    labels: list[int]
    class_names: list[str]
    context: str = "a photo"

    def check(self) -> LabelledImages:
        if not self.paths:
            raise EmptyInputError("The dataset has no images.")
        if len(self.class_names) < 2:
            raise EmptyInputError(
                f"Classification needs at least two classes, got {self.class_names}."
            )
        return self


def class_name_from_folder(name: str) -> str:
    """'golden_retriever' -> 'golden retriever'."""
    return " ".join(name.replace("_", " ").split())


def load_image_folder(root: str | Path, context: str = "a photo") -> LabelledImages:
    """ImageFolder layout: ``root/<class>/<image>``; classes in sorted folder order."""
    root = Path(root)
    if not root.is_dir():
        raise EmptyInputError(f"{root} is not a folder of class folders.")
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    paths, labels = [], []
    for label, folder in enumerate(folders):
        for path in list_images(folder):
            paths.append(str(path))
            labels.append(label)
    return LabelledImages(
        paths=paths,
        labels=labels,
        class_names=[class_name_from_folder(f.name) for f in folders],
        context=context,
    ).check()


def load_labels_csv(
    path: str | Path, class_names: list[str] | None = None, context: str = "a photo"
) -> LabelledImages:
    """A CSV of ``path,label`` (a header row is optional); relative paths are from the CSV."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text().splitlines()))
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"Cannot read {path}: {error}") from None
    rows = [r for r in rows if r and any(cell.strip() for cell in r)]
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["path", "label"]:
        rows = rows[1:]
    if any(len(r) < 2 for r in rows):
        bad = next(i for i, r in enumerate(rows) if len(r) < 2)
        raise SpecError(f"{path}: row {bad + 1} needs two columns, path and label.")
    names = list(class_names) if class_names else sorted({r[1].strip() for r in rows})
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted({r[1].strip() for r in rows} - set(index))
    if unknown:
        raise SpecError(f"{path}: labels {unknown[:5]} are not among the classes given.")
    paths = [str(p if (p := Path(r[0].strip())).is_absolute() else path.parent / p) for r in rows]
    return LabelledImages(
        paths=paths, labels=[index[r[1].strip()] for r in rows], class_names=names, context=context
    ).check()
