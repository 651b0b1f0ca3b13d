"""A synthetic paired (video, music) set: short videos rendered from what each music clip sounds like.

There are no real music videos on an offline machine, so each music clip gets a video drawn in the
world CLIP's visual vocabulary whose look follows the clip's measured audio: the shape's colour
follows the track's mood, the background's brightness the clip's loudness, the shape and its speed
around the frame the clip's tempo, and its size pulses with the clip's onset strength. The
pairing is learnable by construction; it says nothing about real music videos.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from pydantic import BaseModel, Field

from clipflows.components.files import written_whole
from clipflows.components.world.scenes import COLOURS, shape_polygon

MOOD_COLOURS = {
    "calm": "blue",
    "energetic": "red",
    "happy": "yellow",
    "nostalgic": "purple",
    "tender": "green",
}
OTHER_MOOD_COLOUR = "orange"
# Tempo bands (beats per minute, upper bounds) and the shape drawn for each.
TEMPO_SHAPES = ((95.0, "circle"), (115.0, "square"), (135.0, "triangle"), (math.inf, "star"))
QUIET_DB, LOUD_DB = -45.0, -5.0  # RMS levels mapped to energy 0 and 1
# Bump when drawing or encoding changes: it is part of every cached paired set's key.
RENDER_VERSION = 2


class PairedSetConfig(BaseModel):
    """How clips are cut from tracks, how their videos are drawn, and how tracks are split."""

    clip_seconds: float = Field(default=6.0, gt=0)
    hop_seconds: float = Field(default=3.0, gt=0)
    video_fps: float = Field(default=8.0, gt=0)
    video_size: int = Field(default=64, ge=32, le=512)
    renderings: int = Field(default=2, ge=1, le=16)  # videos per training clip
    test_fraction: float = Field(default=0.3, gt=0, lt=1)
    seed: int = 0


class ClipDescriptors(BaseModel):
    """What a clip sounds like, measured with librosa; the video is drawn from these."""

    tempo_bpm: float
    energy: float  # 0..1, the clip's RMS level between QUIET_DB and LOUD_DB
    onset_rate: float  # detected onsets per second
    pulse: list[float]  # onset strength, 0..1, at each video frame

    def as_features(self) -> list[float]:
        return [self.tempo_bpm / 200.0, self.energy, self.onset_rate / 8.0]


def clip_starts(duration_s: float, config: PairedSetConfig) -> list[float]:
    """Start times of the clips cut from a track, every hop_seconds while a whole clip fits."""
    count = int((duration_s - config.clip_seconds) // config.hop_seconds) + 1
    return [i * config.hop_seconds for i in range(max(count, 0))]


def measure_clip(audio: np.ndarray, sample_rate: int, config: PairedSetConfig) -> ClipDescriptors:
    """Tempo, loudness, onset rate and the per-frame onset pulse of a mono clip."""
    import librosa

    onset = librosa.onset.onset_strength(y=audio, sr=sample_rate)
    tempo = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset, sr=sample_rate))[0])
    rms_db = 20 * math.log10(float(np.sqrt(np.mean(audio**2))) + 1e-9)
    onsets = librosa.onset.onset_detect(onset_envelope=onset, sr=sample_rate)
    frames = max(1, round(len(audio) / sample_rate * config.video_fps))
    envelope_times = librosa.frames_to_time(np.arange(len(onset)), sr=sample_rate)
    pulse = np.interp(np.arange(frames) / config.video_fps, envelope_times, onset)
    pulse = pulse / (pulse.max() + 1e-9)
    return ClipDescriptors(
        tempo_bpm=tempo,
        energy=float(np.clip((rms_db - QUIET_DB) / (LOUD_DB - QUIET_DB), 0.0, 1.0)),
        onset_rate=len(onsets) / (len(audio) / sample_rate),
        pulse=[round(float(p), 4) for p in pulse],
    )


def tempo_shape(tempo_bpm: float) -> str:
    return next(shape for limit, shape in TEMPO_SHAPES if tempo_bpm < limit)


def draw_frames(
    descriptors: ClipDescriptors, mood: str | None, seed: int, config: PairedSetConfig
) -> list[Image.Image]:
    """The video's frames: one shape circling the frame (see the module docstring)."""
    rng = random.Random(seed)
    size, scale = config.video_size, 4
    grey = int(20 + 215 * descriptors.energy)
    colour = COLOURS[MOOD_COLOURS.get(mood or "", OTHER_MOOD_COLOUR)]
    shape = tempo_shape(descriptors.tempo_bpm)
    turns_per_second = descriptors.tempo_bpm / 60.0 / 8.0  # one turn every eight beats
    phase, orbit = rng.uniform(0, 2 * math.pi), rng.uniform(0.18, 0.26)
    direction = rng.choice((-1, 1))
    frames = []
    for index, pulse in enumerate(descriptors.pulse):
        angle = phase + direction * 2 * math.pi * turns_per_second * index / config.video_fps
        x, y = 0.5 + orbit * math.cos(angle), 0.5 + orbit * math.sin(angle)
        radius = (0.14 + 0.08 * pulse) * size * scale
        canvas = Image.new("RGB", (size * scale, size * scale), (grey, grey, grey))
        draw = ImageDraw.Draw(canvas)
        cx, cy = x * size * scale, y * size * scale
        if shape == "circle":
            draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=colour)
        else:
            draw.polygon(shape_polygon(shape, cx, cy, radius), fill=colour)
        frames.append(canvas.resize((size, size), Image.Resampling.LANCZOS))
    return frames


def write_video(frames: list[Image.Image], fps: float, path: Path, lossless: bool = True) -> Path:
    """Encode frames as an H.264 MP4 with PyAV, written whole.

    Lossless by default, so a paired set decodes to the same pixels every time it is built:
    lossy x264 output varied between identical encodes here (5 of 40 clips). Lossy (CRF 18)
    is for videos a browser must play, which cannot decode lossless H.264.
    """
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    # x264 may keep frames for its lookahead: every plane stays referenced until the flush.
    planes = [rgb_to_yuv420p(np.asarray(frame)) for frame in frames]
    with written_whole(path) as partial, av.open(str(partial), mode="w") as container:
        stream = container.add_stream("libx264", rate=round(fps))
        stream.width, stream.height = frames[0].size
        stream.pix_fmt = "yuv420p"
        stream.thread_count = 1
        quality = {"qp": "0"} if lossless else {"crf": "18"}
        stream.options = {**quality, "preset": "veryfast", "threads": "1"}
        for plane in planes:
            for packet in stream.encode(av.VideoFrame.from_ndarray(plane, format="yuv420p")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def rgb_to_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range YUV 4:2:0 planes stacked as PyAV expects: [H * 3 / 2, W] uint8
    (done here so the encoder's input is exactly known; sides must be even)."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    height, width = y.shape

    def half(plane: np.ndarray) -> np.ndarray:
        return plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))

    chroma = np.concatenate([half(u).ravel(), half(v).ravel()]).reshape(height // 2, width)
    return np.clip(np.rint(np.concatenate([y, chroma])), 0, 255).astype(np.uint8)


def split_tracks(moods: list[str | None], test_fraction: float, seed: int) -> list[str]:
    """'train' or 'test' per track, the same fraction within each mood, seeded."""
    rng = random.Random(seed)
    split = ["train"] * len(moods)
    for mood in sorted({m or "" for m in moods}):
        members = [i for i, m in enumerate(moods) if (m or "") == mood]
        rng.shuffle(members)
        # Every mood with two or more tracks is in both splits.
        count = min(len(members) - 1, max(1, round(len(members) * test_fraction)))
        for i in members[:count]:
            split[i] = "test"
    return split
