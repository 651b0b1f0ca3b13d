"""Files written whole: under a temporary name, then renamed, so a killed run leaves the old
file or none, never half of one."""

from __future__ import annotations

import os
from pathlib import Path


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def torch_save_whole(value: object, path: Path) -> None:
    """``torch.save`` to ``path``, whole."""
    import torch

    torch.save(value, _partial(path))
    os.replace(_partial(path), path)


def write_text_whole(text: str, path: Path) -> None:
    """UTF-8 text to ``path``, whole."""
    _partial(path).write_text(text, encoding="utf-8")
    os.replace(_partial(path), path)


def save_figure_whole(figure: object, path: Path, dpi: int = 100) -> None:
    """A matplotlib figure saved whole; the temporary name keeps the suffix, which picks the
    image format."""
    partial = path.with_name(path.stem + ".partial" + path.suffix)
    figure.savefig(partial, dpi=dpi)  # type: ignore[attr-defined]
    os.replace(partial, path)
