"""Separating with a trained model: mask from mixture + query, applied with the mixture's phase.

Long recordings are processed in clip-sized chunks read one at a time, so memory stays bounded
whatever the file's length.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from .audio import AudioConfig, Spectrogram
from .separation_model import QuerySeparator


class Separator:
    """A trained model plus its front end: ``separate(samples, query_vector)``."""

    def __init__(self, model: QuerySeparator, audio: AudioConfig):
        self.model = model.eval()
        self.audio = audio
        self.spectrogram = Spectrogram(audio)

    @torch.inference_mode()
    def masks(self, clips: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
        """Soft masks on the linear-frequency STFT grid: [B, freq, frames]."""
        magnitude = self.spectrogram.to_log(self.spectrogram.stft(clips).abs())
        logits = self.model(magnitude, queries)
        return self.spectrogram.from_log(torch.sigmoid(logits)).clamp(0, 1)

    @torch.inference_mode()
    def separate_clips(self, clips: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(estimate, mask) for a batch of clip-length mixtures [B, samples] and one query."""
        tensor = torch.from_numpy(np.ascontiguousarray(clips, np.float32))
        queries = torch.from_numpy(query.astype(np.float32)).reshape(1, -1).expand(len(clips), -1)
        mask = self.masks(tensor, queries)
        spec = self.spectrogram.stft(tensor)
        estimate = self.spectrogram.istft(spec * mask, tensor.shape[-1])
        return estimate.numpy(), mask.numpy()

    def separate(self, samples: np.ndarray, query: np.ndarray, batch: int = 16) -> np.ndarray:
        """The queried source of a recording of any length (chunked, clip by clip)."""
        return np.concatenate(list(self.separate_stream(iter([samples]), query, batch)))[
            : len(samples)
        ]

    def separate_stream(
        self, blocks: Iterator[np.ndarray], query: np.ndarray, batch: int = 16
    ) -> Iterator[np.ndarray]:
        """Separate audio arriving in blocks; yields estimates clip by clip (bounded memory)."""
        length = self.audio.clip_samples
        pending = np.zeros(0, np.float32)
        for block in blocks:
            pending = np.concatenate([pending, block.astype(np.float32)])
            whole = len(pending) // (length * batch) * (length * batch)
            if whole:
                clips = pending[:whole].reshape(-1, length)
                yield self.separate_clips(clips, query)[0].reshape(-1)
                pending = pending[whole:]
        if len(pending):
            padded = np.pad(pending, (0, (-len(pending)) % length))
            estimate = self.separate_clips(padded.reshape(-1, length), query)[0].reshape(-1)
            yield estimate[: len(pending)]
