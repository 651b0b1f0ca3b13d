"""A searchable music library: per track its tags, description and embeddings, on disk.

Text search embeds the query with the sentence encoder and searches either the descriptions or
a tags-only text ("guitar, slow, soft") of every track, with faiss.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, field_serializer, field_validator

from clipflows.components.errors import ClipflowsError, MissingWeightsError
from clipflows.components.files import write_text_whole
from clipflows.components.music.tracks import packaged_tracks_dir
from clipflows.components.music.vector_index import IndexConfig, VectorIndex

Field_ = Literal["description", "tags"]
FILES = {"tracks": "tracks.json", "description": "description.faiss", "tags": "tags.faiss"}
# A packaged track is saved as this prefix plus its path inside the package's tracks folder, so a
# saved library or paired set keeps working after the project is installed somewhere else.
PACKAGED = "immich-memories-music:"
# Where packaged tracks sat in a file saved with absolute paths (before PACKAGED existed).
_PACKAGED_FOLDER = "/immich_memories_music/tracks/"


class LibraryTrack(BaseModel):
    path: str  # absolute in memory; see PACKAGED for how it is saved
    sha256: str
    duration_s: float
    mood: str | None  # the parent folder's name, when the library is organised by mood
    tags: dict[str, float]
    top_tags: list[str]
    description: str
    audio_embedding: list[float]  # the tagger's features: the music side of retrieval

    def tags_text(self) -> str:
        return ", ".join(self.top_tags)

    @field_validator("path", mode="before")
    @classmethod
    def _find_packaged(cls, path: str) -> str:
        if isinstance(path, str) and path.startswith(PACKAGED):
            return str(packaged_tracks_dir() / path.removeprefix(PACKAGED))
        if isinstance(path, str) and _PACKAGED_FOLDER in path and not Path(path).exists():
            return str(packaged_tracks_dir() / path.split(_PACKAGED_FOLDER, 1)[1])
        return path

    @field_serializer("path")
    def _portable_path(self, path: str) -> str:
        try:
            relative = Path(path).relative_to(packaged_tracks_dir())
        except (ValueError, MissingWeightsError):  # not a packaged track
            return path
        return PACKAGED + relative.as_posix()


def missing_tracks(tracks: list[LibraryTrack]) -> list[str]:
    """The tracks whose audio file is not on disk (moved, deleted, or on another machine)."""
    return [t.path for t in tracks if not Path(t.path).is_file()]


def read_tracks(folder: Path) -> list[LibraryTrack]:
    """A saved library's tracks alone: no indexes read, no encoder loaded."""
    return [
        LibraryTrack.model_validate(t) for t in json.loads((folder / FILES["tracks"]).read_text())
    ]


class MusicLibrary:
    """Tracks plus one vector index per searchable field."""

    def __init__(self, tracks: list[LibraryTrack], indexes: dict[str, VectorIndex], encoder):
        self.tracks = tracks
        self.indexes = indexes
        self.encoder = encoder

    @classmethod
    def from_tracks(cls, tracks: list[LibraryTrack], encoder, config: IndexConfig | None = None):
        indexes = {
            "description": VectorIndex.build(
                encoder.encode_texts([t.description for t in tracks]), config
            ),
            "tags": VectorIndex.build(
                encoder.encode_texts([t.tags_text() for t in tracks]), config
            ),
        }
        return cls(tracks, indexes, encoder)

    def search_text(
        self, query: str, k: int = 5, field: Field_ = "description"
    ) -> list[tuple[LibraryTrack, float]]:
        scores, ids = self.indexes[field].search(self.encoder.encode_texts([query]), k)
        return [
            (self.tracks[i], float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0
        ]

    def save(self, folder: Path) -> Path:
        """Write the metadata and the indexes, each atomically."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, index in self.indexes.items():
            index.save(folder / FILES[name])
        write_text_whole(
            json.dumps([t.model_dump() for t in self.tracks]), folder / FILES["tracks"]
        )
        return folder

    @classmethod
    def load(cls, folder: Path, encoder=None) -> MusicLibrary:
        """A saved library; ``encoder`` embeds queries (default: the offline sentence encoder)."""
        if encoder is None:
            from clipflows.components.sentence import SentenceEncoder

            encoder = SentenceEncoder()
        tracks = read_tracks(folder)
        if missing := missing_tracks(tracks):
            raise ClipflowsError(
                f"The music library in {folder} names {len(missing)} track(s) that are not on "
                f"disk (first: {missing[0]}). Describe the tracks again: "
                f"`clipflows music-describe -o {folder}`."
            )
        indexes = {name: VectorIndex.load(folder / FILES[name]) for name in ("description", "tags")}
        return cls(tracks, indexes, encoder)

    def audio_matrix(self) -> np.ndarray:
        return np.array([t.audio_embedding for t in self.tracks], np.float32)
