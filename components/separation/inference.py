"""Separating with a trained model: mask from mixture + query, applied with the mixture's phase.

Long recordings are read in blocks, resampled as a stream and separated clip by clip, and the
outputs are written as they come (whole, under temporary names), so memory stays bounded
whatever the file's length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from clipflows.components.audio import (
    AudioConfig,
    AudioError,
    Spectrogram,
    open_audio,
    read_frames,
)
from clipflows.components.files import written_whole
from clipflows.components.separation.model import QuerySeparator

SILENCE_RMS = 1e-4  # below this the input is silent: nothing to separate


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


def read_blocks(path: Path, rate: int, seconds: float = 30.0):
    """Mono blocks of a file at ``rate``, resampled as a stream (bounded memory); AudioError
    for samples that are not finite numbers (a float file with NaN or infinity in it)."""
    import soxr

    with open_audio(path) as handle:
        stream = soxr.ResampleStream(handle.samplerate, rate, 1, dtype="float32")
        size = int(handle.samplerate * seconds)
        start = 0
        while True:
            block = read_frames(handle, size)
            if not np.isfinite(block).all():
                raise AudioError(
                    f"{path.name} holds samples that are not numbers (NaN or infinity) between "
                    f"{start / handle.samplerate:.0f} s and {(start + size) / handle.samplerate:.0f} s;"
                    " export it again."
                )
            start += len(block)
            last = len(block) < size
            yield stream.resample_chunk(block.mean(axis=1), last=last)
            if last:
                return


def _resampler(source: int, target: int) -> Callable[[np.ndarray, bool], np.ndarray]:
    """A streaming resampler from ``source`` to ``target`` Hz (identity when they agree);
    call it with ``last=True`` once at the end to flush what it holds back."""
    if source == target:
        return lambda samples, last=False: samples
    import soxr

    stream = soxr.ResampleStream(source, target, 1, dtype="float32")
    return lambda samples, last=False: stream.resample_chunk(
        np.asarray(samples, np.float32), last=last
    )


def separate_file(
    separator: Separator,
    audio: Path,
    query: np.ndarray,
    target: Path,
    residual: Path,
    output_rate: int | None = None,
) -> np.ndarray:
    """Separate a recording of any length into ``target`` (the queried source) and ``residual``
    (the rest), both written whole at ``output_rate`` (default: the model's rate). The model
    always runs at its own rate; its outputs are resampled as a stream to ``output_rate``.
    Returns the first clip of the input, for a figure. AudioError for a silent input (and
    nothing is written)."""
    import soundfile as sf

    rate = separator.audio.sample_rate
    out_rate = output_rate or rate
    kept_back, rest_back = _resampler(rate, out_rate), _resampler(rate, out_rate)
    energy, samples, first_clip = 0.0, 0, None
    with written_whole(target) as kept_path, written_whole(residual) as rest_path:
        with (
            sf.SoundFile(kept_path, "w", out_rate, 1) as kept,
            sf.SoundFile(rest_path, "w", out_rate, 1) as rest,
        ):
            for block in read_blocks(audio, rate):
                if not len(block):
                    continue
                energy += float(np.sum(block**2))
                samples += len(block)
                estimate = separator.separate(block, query)
                kept.write(np.clip(kept_back(estimate), -1, 1))
                rest.write(np.clip(rest_back(block - estimate), -1, 1))
                if first_clip is None:
                    first_clip = block[: separator.audio.clip_samples]
            empty = np.zeros(0, np.float32)
            kept.write(np.clip(kept_back(empty, last=True), -1, 1))
            rest.write(np.clip(rest_back(empty, last=True), -1, 1))
        if first_clip is None or energy / max(1, samples) < SILENCE_RMS**2:
            raise AudioError(f"{audio.name} is silent: there is nothing to separate.")
    return first_clip
