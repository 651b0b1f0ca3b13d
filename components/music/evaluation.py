"""Music retrieval scores: precision@k of mood queries; recall@k and median rank of pairs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

from clipflows.components.music.library import MusicLibrary

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


class TagCeiling(BaseModel):
    """How much of a labelling the tagger's output holds at all: leave-one-out accuracy of a
    classifier on the tracks' full tag probabilities, against always guessing the commonest."""

    accuracy: float
    majority: float


def tag_ceiling(library: MusicLibrary, labels: Sequence[str]) -> TagCeiling:
    """Leave-one-out logistic regression from each track's tag probabilities to its label.

    Descriptions are written from the tags alone, so where this is near ``majority`` no
    description can retrieve by that label better than chance: it bounds the music step."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneOut, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(labels) != len(library.tracks):
        raise ValueError(f"{len(labels)} labels for {len(library.tracks)} tracks.")
    counts = Counter(labels)
    if len(counts) < 2 or min(counts.values()) < 2:
        raise ValueError("Need at least two labels, each on at least two tracks.")
    names = sorted({tag for track in library.tracks for tag in track.tags})
    features = np.array([[t.tags.get(n, 0.0) for n in names] for t in library.tracks])
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    accuracy = cross_val_score(classifier, features, list(labels), cv=LeaveOneOut()).mean()
    return TagCeiling(accuracy=float(accuracy), majority=max(counts.values()) / len(labels))


class RankScores(BaseModel):
    """Where each query's true item lands in its ranking (1 = first)."""

    queries: int
    gallery: int
    recall: dict[int, float]  # k -> share of queries with the true item in the top k
    median_rank: float


def true_item_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based rank of ``targets[q]`` in row q of ``scores`` [queries, gallery]; ties count
    against the true item, so a constant scorer ranks last rather than first."""
    true = scores[np.arange(len(targets)), targets]
    return (scores >= true[:, None]).sum(axis=1)


def rank_scores(ranks: np.ndarray, gallery: int, ks: tuple[int, ...] = (1, 5, 10)) -> RankScores:
    return RankScores(
        queries=len(ranks),
        gallery=gallery,
        recall={k: float(np.mean(ranks <= k)) for k in ks},
        median_rank=float(np.median(ranks)),
    )


def chance_scores(gallery: int, queries: int, ks: tuple[int, ...] = (1, 5, 10)) -> RankScores:
    """What a random ranking scores in expectation."""
    return RankScores(
        queries=queries,
        gallery=gallery,
        recall={k: min(k, gallery) / gallery for k in ks},
        median_rank=(gallery + 1) / 2,
    )
