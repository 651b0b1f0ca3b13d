"""Music for a video: a trained trimodal model plus its library's clip embeddings, searched with
a video, a text wish, or both; tracks are ranked by their best-matching clip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel

from clipflows.components.errors import ClipflowsError, EmptyInputError
from clipflows.components.files import write_text_whole, written_whole
from clipflows.components.music.library import LibraryTrack
from clipflows.components.music.paired_set import PairedSet
from clipflows.components.music.training import load_model
from clipflows.components.music.trimodal import TrimodalModel
from clipflows.components.music.vector_index import VectorIndex
from clipflows.components.music.video import VideoConfig

INDEX = "music_index.npz"
TRACKS = "tracks.json"
META = "bundle.json"


class Recommendation(BaseModel):
    track: LibraryTrack
    score: float  # cosine similarity of the query and the track's best clip
    start_s: float  # where that clip starts


def write_library_index(
    model: TrimodalModel,
    paired: PairedSet,
    folder: Path,
    video_identity: str,
    video_config: VideoConfig,
) -> None:
    """Embed every clip's music (all splits) and save it with the tracks beside the model, and
    which video features the model expects. The index is written last: a folder with an index
    is a complete bundle."""
    with torch.no_grad():
        music = model.encode_music(torch.from_numpy(paired.music_features)).numpy()
    meta = {"video_encoder": video_identity, "video": video_config.model_dump()}
    write_text_whole(json.dumps([t.model_dump() for t in paired.tracks]), folder / TRACKS)
    write_text_whole(json.dumps(meta, indent=1), folder / META)
    with written_whole(folder / INDEX) as partial:
        np.savez(
            partial,
            music=music,
            track=np.array([c.track for c in paired.clips]),
            start_s=np.array([c.start_s for c in paired.clips], np.float32),
        )


class MusicRecommender:
    """``recommend(video_features, text_features, k)`` over a bundle written by the training flow."""

    def __init__(self, folder: Path):
        if not (folder / INDEX).is_file():
            raise ClipflowsError(
                f"No music retrieval model in {folder}: train one with `clipflows music-train`."
            )
        self.model = load_model(folder)
        arrays = np.load(folder / INDEX)
        self.clip_track, self.clip_start = arrays["track"], arrays["start_s"]
        self.index = VectorIndex.build(arrays["music"].astype(np.float32))
        self.tracks = [
            LibraryTrack.model_validate(t) for t in json.loads((folder / TRACKS).read_text())
        ]
        meta = json.loads((folder / META).read_text())
        self.video_encoder = meta["video_encoder"]
        self.video_config = VideoConfig.model_validate(meta["video"])

    def check_video_encoder(self, identity: str) -> None:
        if identity != self.video_encoder:
            raise ClipflowsError(
                "This model was trained on video features from another CLIP or frame rate "
                f"({self.video_encoder}); the query used {identity}. Use the same `clip` setting "
                "or retrain with `clipflows music-train`."
            )

    @torch.no_grad()
    def recommend(
        self, video: np.ndarray | None, text: np.ndarray | None, k: int = 5
    ) -> list[Recommendation]:
        """The k best tracks for a pooled video vector and/or a sentence embedding."""
        if video is None and text is None:
            raise EmptyInputError("Give a video, a text wish, or both.")
        query = self.model.encode_query(
            None if video is None else torch.from_numpy(np.asarray(video, np.float32)[None]),
            None if text is None else torch.from_numpy(np.asarray(text, np.float32)[None]),
        ).numpy()
        scores, ids = self.index.search(query, len(self.clip_track))
        best: dict[int, Recommendation] = {}
        for score, clip in zip(scores[0], ids[0], strict=True):
            track = int(self.clip_track[clip])
            if clip >= 0 and track not in best:  # results come best first
                best[track] = Recommendation(
                    track=self.tracks[track],
                    score=float(score),
                    start_s=float(self.clip_start[clip]),
                )
            if len(best) == k:
                break
        return list(best.values())
