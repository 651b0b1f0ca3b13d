"""Held-out retrieval scores of a trimodal model: each test video (with or without its track's
text) queries the music of every test clip; the paired clip's rank gives recall@k and median rank."""

from __future__ import annotations

import numpy as np
import torch

from clipflows.components.music.evaluation import (
    RankScores,
    chance_scores,
    rank_scores,
    true_item_ranks,
)
from clipflows.components.music.paired_set import PairedSet
from clipflows.components.music.trimodal import TrimodalModel

QUERY_MODES = ("video", "text", "video+text")


@torch.no_grad()
def evaluate_retrieval(
    model: TrimodalModel, paired: PairedSet, split: str = "test"
) -> dict[str, RankScores]:
    """Scores per query mode, plus ``chance`` (a random ranking, in expectation)."""
    queries = paired.video_rows(split, first_rendering_only=True)
    gallery = paired.clip_rows(split)
    if not queries or not gallery:
        raise ValueError(f"The paired set has no {split} clips to evaluate on.")
    position = {clip: i for i, clip in enumerate(gallery)}
    clips = [paired.videos[i].clip for i in queries]
    targets = np.array([position[c] for c in clips])
    music = model.encode_music(torch.from_numpy(paired.music_features[gallery]))
    video = torch.from_numpy(paired.video_features[queries])
    text = torch.from_numpy(paired.text_features[[paired.clips[c].track for c in clips]])
    inputs = {"video": (video, None), "text": (None, text), "video+text": (video, text)}
    out = {}
    for mode in QUERY_MODES:
        scores = (model.encode_query(*inputs[mode]) @ music.T).numpy()
        out[mode] = rank_scores(true_item_ranks(scores, targets), len(gallery))
    out["chance"] = chance_scores(len(gallery), len(queries))
    return out
