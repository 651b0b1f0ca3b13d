"""Audio in and out, and the spectrogram front end of the separation model, as one config.

Any format soundfile decodes (WAV, FLAC, Ogg/Opus, MP3) is read, mixed to mono and resampled;
STFT/iSTFT run in torch; magnitudes are warped to log-spaced frequency bins, as in CLIPSep, by a
fixed interpolation matrix (and back by its counterpart).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel, Field

from clipflows.components.errors import ClipflowsError
from clipflows.components.files import written_whole


class AudioError(ClipflowsError):
    """An audio file that cannot be used, with the reason."""


class AudioConfig(BaseModel):
    """Sample rate, clip length and spectrogram shape: everything the model's input depends on."""

    sample_rate: int = Field(default=8000, ge=4000)
    clip_seconds: float = Field(default=2.0, gt=0)
    n_fft: int = 512
    hop: int = 128
    log_bins: int = 96
    frames: int = 128  # STFT frames per clip, padded to a multiple of the U-Net's stride

    @property
    def clip_samples(self) -> int:
        return int(round(self.sample_rate * self.clip_seconds))


FORMATS = "Use WAV, FLAC, Ogg/Opus or MP3 (convert others first, e.g. ffmpeg -i in.m4a out.flac)."
# Sample rates a recording can have. Outside them the header is damaged or hostile: a 7 KB WAV
# declaring 1 Hz reads as an hour, and resampling that hour takes gigabytes.
RATES_HZ = (1_000, 384_000)


def open_audio(path: str | Path):
    """An open ``soundfile.SoundFile``; AudioError naming the file when it is missing, not a
    regular file (a pipe would block), empty, corrupt, in a format libsndfile cannot decode, or
    declares a sample rate outside :data:`RATES_HZ` (refused before any resampling)."""
    import soundfile as sf

    path = Path(path)
    if path.exists() and not path.is_file():
        raise AudioError(f"{path} is not a regular file (a folder, pipe or device): give a file.")
    if not path.is_file():
        raise AudioError(f"No audio file at {path}.")
    if path.stat().st_size == 0:
        raise AudioError(f"{path.name}: not a readable audio file (it is empty: 0 bytes).")
    try:
        handle = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        reason = str(error)
        if "does not exist or is not a regular file" in reason:
            # libsndfile's words for contents it recognises as no format (seen for a text
            # file named .mp3); the file does exist and is regular, checked above.
            reason = "its contents are not audio in any format it can decode"
        raise AudioError(f"{path}: not a readable audio file ({reason}). {FORMATS}") from None
    low, high = RATES_HZ
    if not low <= handle.samplerate <= high:
        handle.close()
        raise AudioError(
            f"{path}: its header declares a sample rate of {handle.samplerate} Hz, outside the "
            f"{low}-{high} Hz that recordings have; the file is damaged. Export it again "
            "(e.g. ffmpeg -i in.wav -ar 44100 out.wav)."
        )
    return handle


def read_frames(handle, frames: int) -> np.ndarray:
    """The next ``frames`` (-1: all) of an open file as float32 [frames, channels]; AudioError
    when the data past the header is damaged."""
    import soundfile as sf

    try:
        return handle.read(frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as error:
        name = Path(handle.name).name
        raise AudioError(f"{name}: the audio data is damaged ({error}).") from None


def load_audio(path: str | Path, sample_rate: int, max_seconds: float | None = None) -> np.ndarray:
    """Mono float32 samples at ``sample_rate``; clear errors for missing, corrupt or unknown files."""
    path = Path(path)
    with open_audio(path) as handle:
        frames = -1 if max_seconds is None else int(max_seconds * handle.samplerate)
        rate = handle.samplerate
        data = read_frames(handle, frames)
    if data.size == 0:
        raise AudioError(f"{path.name} holds no audio samples.")
    mono = data.mean(axis=1)
    if rate != sample_rate:
        import librosa

        mono = librosa.resample(mono, orig_sr=rate, target_sr=sample_rate, res_type="soxr_hq")
    return mono.astype(np.float32)


def audio_duration(path: str | Path) -> float:
    """Seconds of audio in a file, read from its header (no decoding)."""
    with open_audio(path) as handle:
        return handle.frames / handle.samplerate


def audio_sample_rate(path: str | Path) -> int:
    """A file's sample rate in Hz, read from its header (no decoding)."""
    with open_audio(path) as handle:
        return int(handle.samplerate)


def write_audio(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write a 16-bit WAV file, whole."""
    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_whole(path) as partial:
        sf.write(partial, np.clip(samples, -1, 1), sample_rate, subtype="PCM_16")
    return path


class Spectrogram:
    """STFT magnitude and phase, warped to and from log-frequency bins."""

    def __init__(self, config: AudioConfig):
        self.config = config
        self.window = torch.hann_window(config.n_fft)
        linear = np.linspace(0, config.sample_rate / 2, config.n_fft // 2 + 1)
        log = np.geomspace(linear[1], linear[-1], config.log_bins)
        # Each log bin interpolates two linear bins, and back: both are fixed (n_out, n_in) maps.
        self.warp = torch.from_numpy(_interpolation(linear, log)).float()
        self.unwarp = torch.from_numpy(_interpolation(log, linear)).float()

    def stft(self, samples: torch.Tensor) -> torch.Tensor:
        """Complex STFT [..., freq, frames], cropped or padded to ``config.frames``."""
        flat = samples.reshape(-1, samples.shape[-1])  # torch.stft takes one batch dimension
        spec = torch.stft(
            flat, self.config.n_fft, self.config.hop, window=self.window, return_complex=True
        )
        spec = spec.reshape(*samples.shape[:-1], *spec.shape[-2:])
        frames = spec.shape[-1]
        if frames >= self.config.frames:
            return spec[..., : self.config.frames]
        return torch.nn.functional.pad(spec, (0, self.config.frames - frames))

    def istft(self, spec: torch.Tensor, length: int) -> torch.Tensor:
        """Samples from a complex STFT [..., freq, frames] (as cropped/padded by ``stft``)."""
        flat = spec.reshape(-1, *spec.shape[-2:])
        samples = torch.istft(
            flat, self.config.n_fft, self.config.hop, window=self.window, length=length
        )
        return samples.reshape(*spec.shape[:-2], length)

    def to_log(self, magnitude: torch.Tensor) -> torch.Tensor:
        """[..., linear freq, frames] -> [..., log bins, frames]."""
        return torch.einsum("lf,...ft->...lt", self.warp, magnitude)

    def from_log(self, values: torch.Tensor) -> torch.Tensor:
        """[..., log bins, frames] -> [..., linear freq, frames]."""
        return torch.einsum("fl,...lt->...ft", self.unwarp, values)


def _interpolation(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Matrix M with M @ f(source) = linear interpolation of f at ``target`` (clamped ends).

    Written here because the separation model needs the map as a matrix (to apply it to batches
    in torch, in both directions); numpy.interp only applies it to one vector.
    """
    matrix = np.zeros((len(target), len(source)), np.float32)
    right = np.clip(np.searchsorted(source, target), 1, len(source) - 1)
    left = right - 1
    span = source[right] - source[left]
    weight = np.clip((target - source[left]) / span, 0, 1)
    matrix[np.arange(len(target)), left] = 1 - weight
    matrix[np.arange(len(target)), right] += weight
    return matrix
