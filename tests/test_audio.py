"""The audio front end: reading, resampling, STFT round trip, log-frequency warp, bad files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from clipflows.components.audio import AudioConfig, AudioError, Spectrogram, load_audio, write_audio
from clipflows.components.separation.sources import (
    animal_sounds_dir,
    midi_bytes,
    random_melody,
    render_midi,
)


def test_any_rate_and_channel_count_becomes_mono_at_the_model_rate(tmp_path):
    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    sf.write(tmp_path / "tone.flac", stereo, 44100)
    audio = load_audio(tmp_path / "tone.flac", 8000)
    assert audio.dtype == np.float32 and abs(len(audio) - 8000) <= 1
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * 8000 / len(audio) - 440) < 2
    dog = load_audio(animal_sounds_dir() / "dog.mp3", 8000)  # MP3 through libsndfile
    assert 5 < len(dog) / 8000 < 7


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("empty.wav", b"", "not a readable audio file"),
        ("corrupt.wav", b"RIFF\x00\x00garbage", "not a readable audio file"),
        ("notes.xyz", b"just text", "not a readable audio file"),
    ],
)
def test_bad_files_are_clear_errors(tmp_path, name, data, reason):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(AudioError, match=reason):
        load_audio(tmp_path / name, 8000)
    with pytest.raises(AudioError, match="No audio file"):
        load_audio(tmp_path / "missing.wav", 8000)


def test_a_text_file_named_mp3_is_called_undecodable_not_missing(tmp_path):
    (tmp_path / "song.mp3").write_text("these are lyrics, not audio\n" * 20)
    with pytest.raises(AudioError) as caught:
        load_audio(tmp_path / "song.mp3", 8000)
    message = str(caught.value)
    assert str(tmp_path / "song.mp3") in message and "not audio" in message, message
    assert "does not exist" not in message and "pipe" not in message, message


@pytest.mark.parametrize("rate", [1, 999, 384_001])
def test_an_absurd_sample_rate_is_refused_before_any_resampling(tmp_path, rate):
    """A 7 KB WAV declaring 1 Hz reads as an hour: resampled whole it took gigabytes."""
    from clipflows.components.audio import audio_duration
    from clipflows.components.music.tagger_worker import _spectrogram_patches
    from clipflows.components.separation.inference import read_blocks

    path = tmp_path / "tiny.wav"
    sf.write(path, np.full(3500, 0.1, np.float32), rate, subtype="PCM_16")
    reads = (
        lambda: load_audio(path, 8000),
        lambda: audio_duration(path),
        lambda: next(read_blocks(path, 8000)),
        lambda: _spectrogram_patches(str(path), 187),  # the music tagger's input
    )
    for read in reads:
        with pytest.raises(AudioError) as caught:
            read()
        assert f"{path}: its header declares a sample rate of {rate} Hz" in str(caught.value)


def test_the_edge_sample_rates_are_read(tmp_path):
    for rate in (1_000, 384_000):
        sf.write(tmp_path / "edge.wav", np.full(rate // 10, 0.1, np.float32), rate)
        assert abs(len(load_audio(tmp_path / "edge.wav", 8000)) - 800) <= 1


def test_stft_round_trip_and_the_warp_keep_energy_where_it_was():
    config = AudioConfig()
    spectrogram = Spectrogram(config)
    rng = np.random.default_rng(0)
    samples = torch.from_numpy(rng.normal(0, 0.1, (3, config.clip_samples)).astype(np.float32))
    back = spectrogram.istft(spectrogram.stft(samples), config.clip_samples)
    assert torch.allclose(back[:, 1000:-1000], samples[:, 1000:-1000], atol=1e-4)
    t = torch.arange(config.clip_samples) / config.sample_rate
    tone = torch.sin(2 * torch.pi * 1000 * t)
    magnitude = spectrogram.stft(tone).abs()
    warped = spectrogram.to_log(magnitude)
    assert warped.shape == (config.log_bins, config.frames)
    restored = spectrogram.from_log(warped)
    assert restored.shape == magnitude.shape
    assert abs(int(restored.mean(dim=1).argmax()) - int(magnitude.mean(dim=1).argmax())) <= 2


def test_instruments_render_from_midi(tmp_path):
    import random

    notes = random_melody(2.0, random.Random(1))
    audio = render_midi(midi_bytes(40, notes), 8000)  # violin
    assert len(audio) >= 2 * 8000 * 0.9 and np.sqrt(np.mean(audio**2)) > 1e-3
    path = write_audio(tmp_path / "v.wav", audio, 8000)
    assert sf.info(str(path)).samplerate == 8000 and not list(tmp_path.glob("*.wav.*"))
