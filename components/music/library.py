"""A searchable music library: per track its tags, description and embeddings, on disk.

Text search embeds the query with the sentence encoder and searches either the descriptions or
a tags-only text ("guitar, slow, soft") of every track, with faiss.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel

from clipflows.components.files import write_text_whole
from clipflows.components.music.vector_index import IndexConfig, VectorIndex

Field_ = Literal["description", "tags"]
FILES = {"tracks": "tracks.json", "description": "description.faiss", "tags": "tags.faiss"}


class LibraryTrack(BaseModel):
    path: str
    sha256: str
    duration_s: float
    mood: str | None  # the parent folder's name, when the library is organised by mood
    tags: dict[str, float]
    top_tags: list[str]
    description: str
    audio_embedding: list[float]  # the tagger's features: the music side of retrieval

    def tags_text(self) -> str:
        return ", ".join(self.top_tags)


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
        tracks = [
            LibraryTrack.model_validate(t)
            for t in json.loads((folder / FILES["tracks"]).read_text())
        ]
        indexes = {name: VectorIndex.load(folder / FILES[name]) for name in ("description", "tags")}
        return cls(tracks, indexes, encoder)

    def audio_matrix(self) -> np.ndarray:
        return np.array([t.audio_embedding for t in self.tracks], np.float32)
