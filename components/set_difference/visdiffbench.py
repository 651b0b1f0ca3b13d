"""VisDiffBench: paired image-set descriptions (JSONL) and the CSV that maps set names to images.

Difficulty comes from the file or folder name (easy, medium, hard), never from the CSV's
``difficulty`` column: the released CSV mislabels it.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Literal, cast

from pydantic import BaseModel, ValidationError

from clipflows.components.errors import (
    ClipflowsError,
    EmptyInputError,
    InputFormatError,
    InputNotFoundError,
)
from clipflows.components.images import list_images

Difficulty = Literal["easy", "medium", "hard"]
DIFFICULTIES: tuple[Difficulty, ...] = ("easy", "medium", "hard")
_DIFFICULTY_IN_NAME = re.compile(r"(?<![a-z])(easy|medium|hard)(?![a-z])", re.IGNORECASE)


class MissingGroupError(ClipflowsError, LookupError):
    """A paired set names an image group that the image CSV does not have."""


class ImageRootError(ClipflowsError, FileNotFoundError):
    """A CSV's relative image paths exist under none of the folders tried."""


class PairedSet(BaseModel):
    """Two image sets and the ground-truth description of how set A differs from set B."""

    set_a: str
    set_b: str
    difference: str
    difficulty: Difficulty | None = None


def difficulty_from_path(path: str | Path) -> Difficulty | None:
    """easy/medium/hard as a word in the file name or, failing that, the nearest folder name."""
    for part in reversed(Path(path).parts):
        found = _DIFFICULTY_IN_NAME.search(part)
        if found:
            return cast(Difficulty, found.group(1).lower())
    return None


def load_paired_sets(path: str | Path) -> list[PairedSet]:
    """Paired sets from a .jsonl file, or from every pis_*.jsonl (else *.jsonl) under a folder.

    A folder's files are read easy, medium, hard, then unlabelled, each group by path.
    """
    root = Path(path)
    if root.is_file():
        return _read_jsonl(root)
    if not root.is_dir():
        raise InputNotFoundError(f"{root} is neither a .jsonl file nor a folder of them.")
    files = sorted(root.rglob("pis_*.jsonl")) or sorted(root.rglob("*.jsonl"))
    if not files:
        raise EmptyInputError(f"No .jsonl files under {root}; expected e.g. pis_easy.jsonl.")
    rank = {d: i for i, d in enumerate(DIFFICULTIES)}
    files.sort(key=lambda f: rank.get(difficulty_from_path(f), len(rank)))
    return [pair for file in files for pair in _read_jsonl(file)]


def _read_jsonl(file: Path) -> list[PairedSet]:
    """One PairedSet per non-blank line; a bad line is an InputFormatError (a ValueError) naming
    file and line."""
    difficulty = difficulty_from_path(file)
    pairs = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError(f"expected a JSON object, got {type(item).__name__}")
            missing = [key for key in ("set1", "set2", "difference") if key not in item]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            pairs.append(
                PairedSet(
                    set_a=item["set1"],
                    set_b=item["set2"],
                    difference=item["difference"],
                    difficulty=difficulty,
                )
            )
        except (ValueError, ValidationError) as error:  # JSONDecodeError is a ValueError
            raise InputFormatError(f"{file}, line {number}: not a paired set ({error}).") from None
    return pairs


def load_image_groups(
    csv_path: str | Path, root: str | Path | None = None
) -> dict[str, list[Path]]:
    """Image paths per group from a ``group_name,path`` CSV, in file order.

    Relative paths start from ``root``, by default from the folder :func:`find_image_root`
    finds; absolute ones are kept. Other columns (difference, difficulty, target) are ignored.
    """
    csv_path = Path(csv_path)
    rows = _read_rows(csv_path)
    base = _image_root(csv_path, rows, root)
    groups: dict[str, list[Path]] = {}
    for group, image, _ in rows:
        # Joining keeps an absolute path as it is.
        groups.setdefault(group, []).append(base / image)
    return groups


def find_image_root(csv_path: str | Path, root: str | Path | None = None) -> Path:
    """The folder a CSV's relative image paths start from: ``root`` when given, else the CSV's
    folder or, failing that, the nearest folder above it where they exist.

    VisDiff's own CSVs write ``./data/...``, relative to the repository root rather than to the
    CSV. A folder is taken when the first image of every group is there; ImageRootError names
    the first missing path and the folders tried.
    """
    csv_path = Path(csv_path)
    return _image_root(csv_path, _read_rows(csv_path), root)


def _read_rows(csv_path: Path) -> list[tuple[str, str, int]]:
    """(group, path, line) for each row; a missing file is InputNotFoundError, a missing column,
    an empty cell or an unreadable file InputFormatError (a ValueError)."""
    if not csv_path.is_file():
        problem = "is a folder" if csv_path.is_dir() else "does not exist"
        raise InputNotFoundError(
            f"Image CSV {csv_path} {problem}; give a CSV file with group_name,path columns."
        )
    rows = []
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"group_name", "path"} - set(reader.fieldnames or ())
            if missing:
                raise InputFormatError(
                    f"{csv_path} lacks column(s) {sorted(missing)}; its header is "
                    f"{reader.fieldnames}, expected group_name,path[,difference,difficulty]."
                )
            for row in reader:
                group, image = (row["group_name"] or "").strip(), (row["path"] or "").strip()
                if not group or not image:
                    raise InputFormatError(
                        f"{csv_path}, line {reader.line_num}: empty group_name or path."
                    )
                rows.append((group, image, reader.line_num))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputFormatError(f"{csv_path} cannot be read as a UTF-8 CSV: {error}") from None
    return rows


def _image_root(csv_path: Path, rows: list[tuple[str, str, int]], root: str | Path | None) -> Path:
    """``root`` checked, or the first of the CSV's folder and those above it holding the probes:
    the first relative image of each group."""
    probes: dict[str, tuple[str, int]] = {}
    for group, image, line in rows:
        if group not in probes and not Path(image).is_absolute():
            probes[group] = (image, line)

    def first_missing(folder: Path) -> tuple[str, int] | None:
        return next((p for p in probes.values() if not (folder / p[0]).is_file()), None)

    if root is not None:
        missing = first_missing(Path(root))
        if missing:
            raise ImageRootError(
                f"{csv_path}, line {missing[1]}: {missing[0]!r} is not under the root {root}. "
                "Give the folder the CSV's relative image paths start from, or no root to "
                "search the CSV's folder and those above it."
            )
        return Path(root)
    folder = csv_path.absolute().parent
    missing = first_missing(folder)
    if missing is None:
        return folder
    tried = [folder, *folder.parents]
    found = next((f for f in tried[1:] if first_missing(f) is None), None)
    if found is not None:
        return found
    image, line = missing
    raise ImageRootError(
        f"The images of {csv_path} are not found from its folder or any folder above it: "
        f"{image!r} (line {line}) is missing; tried {', '.join(str(f) for f in tried)}. "
        "Give --root FOLDER (root= in Python), the folder its relative paths start from: for "
        "VisDiff's own CSVs, the VisDiff repository, which holds data/."
    )


def images_for_pair(
    pair: PairedSet, groups: dict[str, list[Path]]
) -> tuple[list[Path], list[Path]]:
    """The image paths of a pair's two sets; MissingGroupError names a group the CSV lacks."""
    for label, name in (("A", pair.set_a), ("B", pair.set_b)):
        if name not in groups:
            examples = ", ".join(repr(g) for g in sorted(groups)[:5])
            raise MissingGroupError(
                f"Set {label} of the pair {pair.set_a!r} vs {pair.set_b!r} names group {name!r}, "
                f"which the image CSV does not have ({len(groups)} groups, e.g. {examples})."
            )
    return groups[pair.set_a], groups[pair.set_b]


def folder_images(folder: str | Path) -> list[Path]:
    """The images under a folder, sorted; EmptyInputError if there are none."""
    paths = list_images(folder)
    if not paths:
        raise EmptyInputError(f"No images under {folder}; expected .jpg, .png or similar files.")
    return paths
