"""Bad audio given to separation: each a clear error naming the file, never a crash or a hang;
silence stays finite; a two-hour recording is separated in bounded memory."""

from __future__ import annotations

import os
import struct
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from clipflows.components.audio import AudioError, audio_duration, load_audio
from clipflows.components.separation.inference import Separator
from clipflows.components.separation.query_encoders import query_encoder
from clipflows.components.separation.training import load_separator
from clipflows.flows.separation import separate

# A hang fails instead of waiting; fixtures are not timed (a cold cache trains the world CLIP).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300, func_only=True)]
RATE = 8000


def wav_with_format_tag(tag: int) -> bytes:
    """A WAV whose 'fmt ' chunk names a codec (e.g. 0x2000, AC-3) that libsndfile cannot decode."""
    fmt = struct.pack("<HHIIHH", tag, 1, RATE, RATE, 1, 8)
    data = bytes(1000)
    body = b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt + b"data"
    body += struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def aac_in_m4a(path: Path) -> Path:
    """One second of AAC in an MP4 container (a phone's voice memo): libsndfile has no AAC."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=RATE)
        stream.layout = "mono"
        tone = (0.1 * np.sin(np.arange(RATE) / 5)).astype(np.float32)[None]
        frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        frame.sample_rate = RATE
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    return path


def bad_file(kind: str, folder: Path) -> Path:
    path = folder / {"midi": "song.mid", "aac": "memo.m4a", "folder": "folder.wav"}.get(
        kind, f"{kind}.wav"
    )
    if kind == "corrupt":
        path.write_bytes(np.random.default_rng(0).bytes(64_000))
    elif kind == "zero-byte":
        path.write_bytes(b"")
    elif kind == "ac3-in-wav":
        path.write_bytes(wav_with_format_tag(0x2000))
    elif kind == "midi":
        path.write_bytes(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0")
    elif kind == "aac":
        aac_in_m4a(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "pipe":
        os.mkfifo(path)  # opening it to read would block until someone writes
    return path


BAD = ["corrupt", "zero-byte", "ac3-in-wav", "midi", "aac", "folder", "pipe", "missing"]


@pytest.mark.parametrize("kind", BAD)
def test_unreadable_audio_is_one_clear_error_naming_the_file(kind, tmp_path, tiny_separator):
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    path = bad_file(kind, inputs)
    for read in (
        lambda: load_audio(path, RATE),
        lambda: audio_duration(path),
        lambda: separate.fn(
            str(path), "a dog", str(outputs / "x.wav"), tiny_separator[0], tiny_separator[1]
        ),
    ):
        with pytest.raises(AudioError, match=path.name):
            read()
    assert not outputs.exists() or not list(outputs.iterdir())


def test_samples_that_are_not_numbers_are_an_error_and_leave_nothing(tmp_path, tiny_separator):
    samples = np.full(RATE * 70, 0.1, np.float32)
    samples[RATE * 65] = np.nan  # in the third 30-second block
    sf.write(tmp_path / "nan.wav", samples, RATE, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"nan\.wav holds samples that are not numbers.* 60 s"):
        separate.fn(str(tmp_path / "nan.wav"), "a dog", str(tmp_path / "o.wav"), *tiny_separator)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.wav"]


def test_a_header_without_samples_is_an_error(tmp_path, tiny_separator):
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), RATE)
    assert (tmp_path / "empty.wav").stat().st_size > 0
    with pytest.raises(AudioError, match="empty.wav holds no audio samples"):
        separate.fn(str(tmp_path / "empty.wav"), "a dog", str(tmp_path / "o.wav"), *tiny_separator)


def test_silence_separates_to_finite_silence_and_the_flow_says_so(tmp_path, tiny_separator):
    model, config = load_separator(Path(tiny_separator[0]))
    separator = Separator(model, config.audio)
    query = query_encoder("clip-text", tiny_separator[1]).encode_texts(["a dog barking"])[0]
    for length in (1, RATE * 5 + 123):  # shorter than a clip, and not a whole number of clips
        estimate = separator.separate(np.zeros(length, np.float32), query)
        assert estimate.shape == (length,) and np.isfinite(estimate).all()
        assert np.abs(estimate).max() == 0
    _, mask = separator.separate_clips(np.zeros((2, config.audio.clip_samples)), query)
    assert np.isfinite(mask).all()
    sf.write(tmp_path / "silence.wav", np.zeros(RATE * 3), RATE)
    with pytest.raises(AudioError, match="silence.wav is silent"):
        separate.fn(
            str(tmp_path / "silence.wav"), "a dog", str(tmp_path / "o.wav"), *tiny_separator
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["silence.wav"]


def traced_separation(path: Path, tiny_separator) -> tuple[object, int, float]:
    """Separate ``path``; the result, the peak of memory traced meanwhile (numpy and Python
    allocations: every sample array the flow makes), and the seconds it took."""
    tracemalloc.start()
    began = time.perf_counter()
    try:
        result = separate.fn(str(path), "a dog", str(path.with_suffix(".out.wav")), *tiny_separator)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak, time.perf_counter() - began


def noise_file(path: Path, minutes: int) -> Path:
    rng = np.random.default_rng(minutes)
    with sf.SoundFile(path, "w", RATE, 1, subtype="PCM_16") as handle:
        for _ in range(0, minutes, 10):  # written ten minutes at a time
            handle.write(
                (0.1 * rng.standard_normal(RATE * 60 * min(10, minutes))).astype(np.float32)
            )
    return path


def test_a_two_hour_recording_is_separated_in_bounded_memory(tmp_path, tiny_separator):
    _, short_peak, _ = traced_separation(noise_file(tmp_path / "short.wav", 10), tiny_separator)
    long = noise_file(tmp_path / "long.wav", 120)
    result, peak, seconds = traced_separation(long, tiny_separator)
    whole_file = 2 * 3600 * RATE * 4  # bytes of the recording as float32: 230 MB
    assert peak < short_peak + whole_file / 10, (short_peak, peak)  # no more than for 10 min
    assert result.seconds == 2 * 3600
    for output in (result.separated, result.residual):
        assert sf.info(output).frames == 2 * 3600 * RATE
    head = RATE * 60
    mix = sf.read(long, frames=head, dtype="float32")[0]
    kept = sf.read(result.separated, frames=head, dtype="float32")[0]
    rest = sf.read(result.residual, frames=head, dtype="float32")[0]
    assert np.allclose(kept + rest, mix, atol=2e-3)  # 16-bit outputs
    assert not list(tmp_path.glob("tmp*"))  # no temporary output left behind
    print(
        f"2 h in {seconds:.1f} s; traced peak {peak / 1e6:.1f} MB (10 min: {short_peak / 1e6:.1f})"
    )
