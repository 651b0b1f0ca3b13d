"""Video as CLIP features: frames decoded with PyAV at a fixed rate, encoded, pooled over time.

A video is a file PyAV can open or a folder of frame images (read in name order). Pooling keeps
what a soundtrack follows: the mean frame (what is shown), its spread over time, and the mean
change between consecutive frames (how fast it moves).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from clipflows.components.errors import ClipflowsError, EmptyInputError
from clipflows.components.images import decode_image, list_images, read_bytes


class VideoError(ClipflowsError):
    """A video could not be read: not a video, no video stream, or no decodable frame."""


class VideoConfig(BaseModel):
    fps: float = Field(default=4.0, gt=0, le=60)
    # Long videos keep this many frames, evenly spaced over the whole video (the rate drops).
    max_frames: int = Field(default=64, ge=2, le=4096)


@dataclass
class VideoEmbedding:
    frames: np.ndarray  # [frames, d], L2-normalised CLIP embeddings
    times: list[float]  # seconds of each frame
    pooled: np.ndarray  # [3 * d]: see pool_frames

    @property
    def duration_s(self) -> float:
        return self.times[-1] if self.times else 0.0


def pool_frames(frames: np.ndarray) -> np.ndarray:
    """[mean, standard deviation, mean absolute change between consecutive frames]."""
    if len(frames) == 0:
        raise EmptyInputError("No frames to pool.")
    change = (
        np.abs(np.diff(frames, axis=0)).mean(axis=0)
        if len(frames) > 1
        else np.zeros_like(frames[0])
    )
    return np.concatenate([frames.mean(axis=0), frames.std(axis=0), change]).astype(np.float32)


def _keep_evenly(items: list, count: int) -> list:
    if len(items) <= count:
        return items
    picks = np.linspace(0, len(items) - 1, count).round().astype(int)
    return [items[i] for i in picks]


def read_video_frames(
    path: str | Path, config: VideoConfig
) -> tuple[list[Image.Image], list[float]]:
    """RGB frames sampled every 1/fps seconds (by presentation time), and their times."""
    import av

    path = Path(path)
    if path.is_dir():
        return read_frame_folder(path, config)
    if not path.is_file():
        raise VideoError(f"{path} does not exist.")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as error:
        raise VideoError(f"{path.name} is not a video PyAV can open: {error}") from error
    with container:
        if not container.streams.video:
            raise VideoError(f"{path.name} has no video stream (audio only?).")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames, times, next_time = [], [], 0.0
        try:
            for frame in container.decode(stream):
                time = float(frame.time) if frame.time is not None else len(times) / config.fps
                if time + 1e-6 < next_time:
                    continue
                frames.append(frame.to_image().convert("RGB"))
                times.append(time)
                next_time = time + 1.0 / config.fps
        except av.FFmpegError as error:
            if not frames:
                raise VideoError(f"{path.name}: no frame could be decoded ({error}).") from error
            # A damaged tail: keep the frames decoded before it.
    if not frames:
        raise VideoError(f"{path.name}: the video stream has no decodable frame.")
    keep = _keep_evenly(list(range(len(frames))), config.max_frames)
    return [frames[i] for i in keep], [times[i] for i in keep]


def read_frame_folder(folder: Path, config: VideoConfig) -> tuple[list[Image.Image], list[float]]:
    """Frames from a folder of images, in name order, taken to be 1/fps seconds apart;
    unreadable images are left out."""
    frames = []
    for path in list_images(folder):
        try:
            frames.append(decode_image(read_bytes(path)))
        except (OSError, ValueError):
            continue
    if not frames:
        raise VideoError(f"{folder} holds no readable frame images.")
    times = [i / config.fps for i in range(len(frames))]
    keep = _keep_evenly(list(range(len(frames))), config.max_frames)
    return [frames[i] for i in keep], [times[i] for i in keep]


class VideoEncoder:
    """Encode videos with a ClipEncoder: ``encode(path) -> VideoEmbedding``."""

    def __init__(self, clip, config: VideoConfig | None = None):
        self.clip = clip
        self.config = config or VideoConfig()

    @property
    def identity(self) -> str:
        return f"{self.clip.model_identity}|fps={self.config.fps}|max={self.config.max_frames}"

    @property
    def pooled_dim(self) -> int:
        return 3 * self.clip.embed_dim

    def encode(self, path: str | Path) -> VideoEmbedding:
        frames, times = read_video_frames(path, self.config)
        embeddings = self.clip.encode_pil(frames)
        return VideoEmbedding(frames=embeddings, times=times, pooled=pool_frames(embeddings))
