"""Build, save and load the paired (video, text, music) set the trimodal model trains on.

Per library track: its description (text side), its clips cut every hop_seconds (music side:
the tagger's patch features pooled over the clip, plus tempo, loudness and onset rate), and per
clip one or more rendered videos (video side: pooled CLIP frames). Tracks are split into train
and test before anything is drawn, so no test track is seen in training.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from clipflows.components.audio import load_audio
from clipflows.components.files import write_text_whole, written_whole
from clipflows.components.music.library import LibraryTrack, missing_tracks
from clipflows.components.music.synthetic_videos import (
    ClipDescriptors,
    PairedSetConfig,
    clip_starts,
    draw_frames,
    measure_clip,
    split_tracks,
    write_video,
)
from clipflows.components.music.tagger import TrackTags
from clipflows.components.music.training import PairedFeatures

ANALYSIS_RATE = 22_050


class PairedClip(BaseModel):
    track: int  # index into the set's tracks
    start_s: float
    split: str  # "train" or "test"
    descriptors: ClipDescriptors


class PairedVideo(BaseModel):
    clip: int
    rendering: int
    path: str  # relative to the set's folder


@dataclass
class PairedSet:
    tracks: list[LibraryTrack]
    clips: list[PairedClip]
    videos: list[PairedVideo]
    video_features: np.ndarray  # [videos, d_video]
    music_features: np.ndarray  # [clips, d_music]
    text_features: np.ndarray  # [tracks, d_text]
    folder: Path | None = None  # where the set (and its videos) is saved
    rendered: int = 0  # videos drawn by the build that made this object (not saved)

    def video_rows(self, split: str, first_rendering_only: bool = False) -> list[int]:
        return [
            i
            for i, v in enumerate(self.videos)
            if self.clips[v.clip].split == split and (v.rendering == 0 or not first_rendering_only)
        ]

    def clip_rows(self, split: str) -> list[int]:
        return [i for i, c in enumerate(self.clips) if c.split == split]

    def features(self, split: str) -> PairedFeatures:
        """One row per video of ``split``, with its clip's music and its track's text."""
        rows = self.video_rows(split)
        clips = np.array([self.videos[i].clip for i in rows])
        return PairedFeatures(
            video=self.video_features[rows],
            text=self.text_features[[self.clips[c].track for c in clips]],
            music=self.music_features[clips],
            clip=clips,
        )

    def sample_videos(self, split: str = "test") -> list[tuple[Path, PairedClip]]:
        """One video per mood of ``split`` (its first clip's first rendering), with its clip."""
        if self.folder is None:
            return []
        seen, out = set(), []
        for row in self.video_rows(split, first_rendering_only=True):
            clip = self.clips[self.videos[row].clip]
            mood = self.tracks[clip.track].mood
            if mood not in seen:
                seen.add(mood)
                out.append((self.folder / self.videos[row].path, clip))
        return out

    def save(self, folder: Path) -> None:
        """Features first, the index last: a folder with ``pairs.json`` is complete."""
        with written_whole(folder / "features.npz") as partial:
            np.savez(
                partial,
                video=self.video_features,
                music=self.music_features,
                text=self.text_features,
            )
        index = {
            "tracks": [t.model_dump() for t in self.tracks],
            "clips": [c.model_dump() for c in self.clips],
            "videos": [v.model_dump() for v in self.videos],
        }
        write_text_whole(json.dumps(index), folder / "pairs.json")

    @classmethod
    def load(cls, folder: Path) -> PairedSet | None:
        """The set saved in ``folder``, or None when there is no complete one."""
        if not (folder / "pairs.json").is_file():
            return None
        index = json.loads((folder / "pairs.json").read_text())
        tracks = [LibraryTrack.model_validate(t) for t in index["tracks"]]
        if missing_tracks(tracks):  # its audio moved: build it again (the videos are reused)
            return None
        arrays = np.load(folder / "features.npz")
        return cls(
            tracks=tracks,
            clips=[PairedClip.model_validate(c) for c in index["clips"]],
            videos=[PairedVideo.model_validate(v) for v in index["videos"]],
            video_features=arrays["video"],
            music_features=arrays["music"],
            text_features=arrays["text"],
            folder=folder,
        )


def clip_music_features(
    tags: TrackTags, start_s: float, config: PairedSetConfig, descriptors: ClipDescriptors
) -> np.ndarray | None:
    """The tagger's patch features averaged over the clip, then tempo, loudness and onset rate;
    None when the tagger's patches do not cover the whole clip."""
    first = round(start_s / tags.patch_seconds)
    count = max(1, round(config.clip_seconds / tags.patch_seconds))
    patches = tags.patch_embeddings[first : first + count]
    if len(patches) < count:
        return None
    pooled = np.asarray(patches, np.float32).mean(axis=0)
    return np.concatenate([pooled, np.asarray(descriptors.as_features(), np.float32)])


def build_paired_set(
    tracks: Sequence[LibraryTrack],
    tags: dict[str, TrackTags],
    video_encoder,
    text_encoder,
    config: PairedSetConfig,
    folder: Path,
    progress: Callable[[int, int], None] | None = None,
) -> PairedSet:
    """Cut, measure, render and encode; videos already on disk (an interrupted build) are reused."""
    folder.mkdir(parents=True, exist_ok=True)
    tracks = [t for t in tracks if t.path in tags and tags[t.path].patch_embeddings]
    split = split_tracks([t.mood for t in tracks], config.test_fraction, config.seed)
    clips, music = [], []
    for index, track in enumerate(tracks):
        audio = load_audio(track.path, ANALYSIS_RATE)
        length = round(config.clip_seconds * ANALYSIS_RATE)
        for start in clip_starts(len(audio) / ANALYSIS_RATE, config):
            offset = round(start * ANALYSIS_RATE)
            descriptors = measure_clip(audio[offset : offset + length], ANALYSIS_RATE, config)
            features = clip_music_features(tags[track.path], start, config, descriptors)
            if features is None:
                continue
            clips.append(
                PairedClip(track=index, start_s=start, split=split[index], descriptors=descriptors)
            )
            music.append(features)
    videos = [
        PairedVideo(clip=c, rendering=r, path=f"videos/clip{c:05d}-r{r}.mp4")
        for c, clip in enumerate(clips)
        for r in range(config.renderings if clip.split == "train" else 1)
    ]
    video_features, rendered = [], 0
    for done, video in enumerate(videos, start=1):
        path = folder / video.path
        if not path.is_file():
            rendered += 1
            clip = clips[video.clip]
            seed = config.seed * 7919 + video.clip * 31 + video.rendering
            frames = draw_frames(clip.descriptors, tracks[clip.track].mood, seed, config)
            write_video(frames, config.video_fps, path)
        video_features.append(video_encoder.encode(path).pooled)
        if progress:
            progress(done, len(videos))
    paired = PairedSet(
        tracks=list(tracks),
        clips=clips,
        videos=videos,
        video_features=np.stack(video_features),
        music_features=np.stack(music),
        text_features=text_encoder.encode_texts([t.description for t in tracks]),
        folder=folder,
        rendered=rendered,
    )
    paired.save(folder)
    return paired
