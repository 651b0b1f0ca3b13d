"""A saved music library names its tracks so that it survives a reinstall, and says when it can't."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from clipflows.components.errors import ClipflowsError
from clipflows.components.music.library import LibraryTrack, MusicLibrary
from clipflows.components.music.tracks import list_tracks, packaged_tracks_dir


class HashedWords:
    """A stand-in text encoder: enough for an index, no model to load."""

    dim = 8

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        rows = [np.random.default_rng(len(t)).normal(size=self.dim) for t in texts]
        vectors = np.asarray(rows, np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def track(path: Path) -> LibraryTrack:
    return LibraryTrack(
        path=str(path),
        sha256=path.name,
        duration_s=30.0,
        mood=path.parent.name,
        tags={"guitar": 0.5},
        top_tags=["guitar"],
        description=f"Music from {path.stem}",
        audio_embedding=[0.0],
    )


def saved_library(paths: list[Path], folder: Path) -> Path:
    return MusicLibrary.from_tracks([track(p) for p in paths], HashedWords()).save(folder)


def test_packaged_tracks_are_saved_relative_to_their_package(tmp_path):
    packaged = list_tracks(packaged_tracks_dir())[:3]
    folder = saved_library(packaged, tmp_path / "library")
    on_disk = [t["path"] for t in json.loads((folder / "tracks.json").read_text())]
    assert all(p.startswith("immich-memories-music:") for p in on_disk)
    assert str(packaged_tracks_dir()) not in (folder / "tracks.json").read_text()
    loaded = MusicLibrary.load(folder, HashedWords())
    assert [t.path for t in loaded.tracks] == [str(p) for p in packaged]


def test_a_library_saved_by_another_install_finds_the_packaged_tracks_here(tmp_path):
    packaged = list_tracks(packaged_tracks_dir())[:2]
    folder = saved_library(packaged, tmp_path / "library")
    elsewhere = "/gone/venv/lib/python3.11/site-packages/immich_memories_music/tracks/"
    tracks = json.loads((folder / "tracks.json").read_text())
    for row in tracks:
        row["path"] = row["path"].replace("immich-memories-music:", elsewhere)
    (folder / "tracks.json").write_text(json.dumps(tracks))
    loaded = MusicLibrary.load(folder, HashedWords())
    assert [t.path for t in loaded.tracks] == [str(p) for p in packaged]


def test_a_library_whose_track_is_gone_says_how_to_rebuild_it(tmp_path):
    own = tmp_path / "music" / "calm"
    own.mkdir(parents=True)
    first = list_tracks(packaged_tracks_dir() / "calm")[0]
    copies = [shutil.copy(first, own / f"take{i}.opus") for i in range(2)]
    folder = saved_library([Path(c) for c in copies], tmp_path / "library")
    assert len(MusicLibrary.load(folder, HashedWords()).tracks) == 2  # own tracks keep their path
    Path(copies[1]).unlink()
    with pytest.raises(ClipflowsError, match=r"1 track\(s\) that are not on disk.*music-describe"):
        MusicLibrary.load(folder, HashedWords())
