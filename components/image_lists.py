"""Image lists kept as files: a flow is given the list's path, never the list itself, so a set
of any size passes Prefect's parameter limit (512 KB) and never floods a log line."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from clipflows.components.files import write_bytes_whole

IMAGE_LIST_SUFFIX = ".imagelist"


def write_image_list(paths: Sequence[str | Path], folder: Path) -> Path:
    """``paths``, a line each, in a file named by its content inside ``folder`` (the same list
    is written once). Lines are the paths' bytes, so a name that is not UTF-8 survives."""
    data = b"".join(os.fsencode(p) + b"\n" for p in paths)
    target = folder / f"{hashlib.sha256(data).hexdigest()[:24]}{IMAGE_LIST_SUFFIX}"
    if not target.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes_whole(data, target)
    return target


def is_image_list(reference: str | Path) -> bool:
    """Whether ``reference`` names an image list file (not a folder of images)."""
    path = Path(reference)
    return path.suffix == IMAGE_LIST_SUFFIX and path.is_file()


def read_image_list(path: str | Path) -> list[Path]:
    """The paths an image list holds, in its order."""
    return [Path(os.fsdecode(line)) for line in Path(path).read_bytes().splitlines() if line]
