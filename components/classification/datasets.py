"""Labelled image datasets for classification: an image folder per class, or a CSV of path,label."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from clipflows.components.errors import EmptyInputError, SpecError
from clipflows.components.images import PathText, list_images


class LabelledImages(BaseModel):
    """Images with integer labels into ``class_names``; ``context`` tells an LLM what they are."""

    paths: list[PathText]
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
        reader = csv.reader(path.read_text().splitlines())
        numbered = [(reader.line_num, r) for r in reader if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise SpecError(f"Cannot read {path}: {error}") from None
    if numbered and [c.strip().lower() for c in numbered[0][1][:2]] == ["path", "label"]:
        numbered = numbered[1:]
    for line, row in numbered:  # the file's own line numbers, as an editor shows them
        if len(row) < 2:
            raise SpecError(f"{path}, line {line}: needs two columns, path and label; got {row}.")
    rows = [r for _, r in numbered]
    names = list(class_names) if class_names else sorted({r[1].strip() for r in rows})
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted({r[1].strip() for r in rows} - set(index))
    if unknown:
        raise SpecError(f"{path}: labels {unknown[:5]} are not among the classes given.")
    paths = [str(p if (p := Path(r[0].strip())).is_absolute() else path.parent / p) for r in rows]
    return LabelledImages(
        paths=paths, labels=[index[r[1].strip()] for r in rows], class_names=names, context=context
    ).check()


def validation_split(count: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (validation, test) image indices, each sorted: fusion is chosen on the first and
    every method is scored on the second."""
    order = np.random.default_rng(seed).permutation(count)
    cut = int(round(count * fraction))
    return np.sort(order[:cut]), np.sort(order[cut:])
