"""Files written whole: under a temporary name, then renamed, so a killed run leaves the old
file or none, never half of one."""

from __future__ import annotations

import os
from pathlib import Path


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def torch_save_whole(value: object, path: Path) -> None:
    import torch

    torch.save(value, _partial(path))
    os.replace(_partial(path), path)


def write_text_whole(text: str, path: Path) -> None:
    _partial(path).write_text(text)
    os.replace(_partial(path), path)
