"""tag_ceiling: what a labelling the tag probabilities hold, measured by leave-one-out."""

import numpy as np
import pytest

from clipflows.components.music.evaluation import tag_ceiling
from clipflows.components.music.library import LibraryTrack, MusicLibrary


def _library(tag_rows: np.ndarray) -> MusicLibrary:
    tracks = [
        LibraryTrack(
            path=f"/music/{i}.opus",
            sha256="0" * 64,
            duration_s=30.0,
            mood=None,
            tags={f"tag{j}": float(v) for j, v in enumerate(row)},
            top_tags=[],
            description="",
            audio_embedding=[],
        )
        for i, row in enumerate(tag_rows)
    ]
    return MusicLibrary(tracks, indexes={}, encoder=None)


def test_a_label_the_tags_carry_is_recovered_and_one_they_do_not_is_not():
    rng = np.random.default_rng(0)
    labels = ["calm", "loud"] * 15
    carried = rng.uniform(0, 0.2, (30, 6))
    carried[:, 0] += [0.8 if label == "loud" else 0.0 for label in labels]
    assert tag_ceiling(_library(carried), labels).accuracy == 1.0

    noise = rng.uniform(0, 1, (30, 6))
    absent = tag_ceiling(_library(noise), labels)
    assert absent.majority == 0.5
    assert absent.accuracy < 0.75


def test_labels_that_cannot_be_measured_are_refused():
    library = _library(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="labels for 4 tracks"):
        tag_ceiling(library, ["a", "b"])
    with pytest.raises(ValueError, match="each on at least two"):
        tag_ceiling(library, ["a", "a", "a", "b"])
