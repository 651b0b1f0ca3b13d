"""Text-to-music retrieval against mood labels: precision@k of mood queries."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel

from .music_library import MusicLibrary

MOOD_QUERIES: dict[str, list[str]] = {
    "calm": ["calm acoustic guitar", "quiet relaxing ambient music"],
    "energetic": ["energetic electronic dance", "fast loud driving beat"],
    "happy": ["happy upbeat cheerful tune", "bright playful pop"],
    "nostalgic": ["nostalgic wistful melody", "warm memories of the past"],
    "tender": ["tender soft love song", "gentle delicate piano"],
}


class RetrievalScores(BaseModel):
    field: str
    precision: float  # mean precision@k over all queries
    per_mood: dict[str, float]
    chance: float  # expected precision of a random ranking


def mood_precision(library: MusicLibrary, field: str, k: int = 5) -> RetrievalScores:
    """How many of the top k tracks for each mood query carry that mood."""
    counts = Counter(t.mood for t in library.tracks)
    per_mood = {}
    for mood, queries in MOOD_QUERIES.items():
        hits = [
            sum(track.mood == mood for track, _ in library.search_text(q, k, field)) / k
            for q in queries
        ]
        per_mood[mood] = sum(hits) / len(hits)
    chance = sum(counts[m] for m in MOOD_QUERIES) / len(MOOD_QUERIES) / len(library.tracks)
    return RetrievalScores(
        field=field,
        precision=sum(per_mood.values()) / len(per_mood),
        per_mood=per_mood,
        chance=chance,
    )
