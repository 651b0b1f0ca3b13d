"""Kill music-retrieval training twice (while drawing videos, then while training), rerun:
videos drawn before a kill are kept, training resumes from its checkpoint, results match."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from test_kill_resume import kill_when, start

from clipflows.components.cache import JsonCache
from clipflows.components.music.library import LibraryTrack, MusicLibrary
from clipflows.components.music.synthetic_videos import PairedSetConfig
from clipflows.components.music.tagger import MusicnnTagger
from clipflows.components.music.tracks import list_tracks, packaged_tracks_dir
from clipflows.components.music.training import RetrievalTrainConfig
from clipflows.components.sentence import SentenceEncoder
from clipflows.flows.music_retrieval import MusicRetrievalConfig

pytestmark = pytest.mark.slow
MOODS = ("calm", "energetic", "happy")
# Smaller than the default (a clip every 6 s, not 3; 60 steps, not 400), so the four runs
# take minutes, not 18 of them: what is tested is where a killed run resumes, not the model.
STEPS = 60
CONFIG = MusicRetrievalConfig(
    paired=PairedSetConfig(hop_seconds=6.0),
    training=RetrievalTrainConfig(steps=STEPS, checkpoint_every=20),
)

TRAIN = """
    from clipflows.flows.music_retrieval import MusicRetrievalConfig, train_music_retrieval
    config = MusicRetrievalConfig.model_validate_json({config!r})
    result = train_music_retrieval({library!r}, {output!r}, config=config)
    print("RESULT", result.model_dump_json())
"""


def small_library(folder: Path, cache_dir: Path) -> Path:
    """Two tracks of three moods, described by their tags (no LLM), saved as a library."""
    paths = [p for m in MOODS for p in list_tracks(packaged_tracks_dir() / m)[:2]]
    tags = MusicnnTagger(cache=JsonCache(cache_dir / "music-tags")).tag(paths)
    tracks = [
        LibraryTrack(
            path=str(p),
            sha256=p.name,
            duration_s=30.0,
            mood=p.parent.name,
            tags=tags[str(p)].tags,
            top_tags=tags[str(p)].top(6),
            description="Music tagged " + ", ".join(tags[str(p)].top(6)),
            audio_embedding=tags[str(p)].embedding,
        )
        for p in paths
    ]
    MusicLibrary.from_tracks(tracks, SentenceEncoder()).save(folder)
    return folder


def finished(log: Path) -> dict:
    line = next(x for x in log.read_text().splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def _script(library: Path, output: Path) -> str:
    return TRAIN.format(library=str(library), output=str(output), config=CONFIG.model_dump_json())


def run_to_end(library: Path, output: Path, cache_dir: Path, world_spec: str, log: Path) -> dict:
    child = start(_script(library, output), cache_dir, world_spec, log)
    assert child.wait(timeout=900) == 0, log.read_text()[-3000:]
    return finished(log)


def test_music_training_killed_twice_then_resumed(tmp_path, world_spec):
    cache, fresh_cache = tmp_path / "cache", tmp_path / "fresh-cache"
    library = small_library(tmp_path / "library", cache)
    shutil.copytree(cache / "music-tags", fresh_cache / "music-tags")  # tags are not the point
    output = tmp_path / "model"
    script = _script(library, output)

    def videos() -> list[Path]:
        return sorted((cache / "music-video").glob("*/videos/clip*-r?.mp4"))

    # 1. Killed while drawing and encoding the paired videos.
    log = tmp_path / "first.log"
    kill_when(start(script, cache, world_spec, log), lambda: len(videos()) >= 20, 600, log)
    drawn = {p: p.stat().st_mtime_ns for p in videos()}
    assert not list((cache / "music-video").glob("*/pairs.json"))  # the set is not complete

    # 2. Killed once the first training checkpoint is on disk.
    def checkpoints() -> list[Path]:
        return list((cache / "music-retrieval" / "runs").glob("*/checkpoint.pt"))

    log = tmp_path / "second.log"
    kill_when(start(script, cache, world_spec, log), lambda: bool(checkpoints()), 600, log)
    states = {p.parent.name: torch.load(p, weights_only=False)["step"] for p in checkpoints()}

    # 3. Run to the end.
    resumed = run_to_end(library, output, cache, world_spec, tmp_path / "third.log")
    assert not resumed["videos_built"] and resumed["videos_rendered"] == 0
    assert all(p.stat().st_mtime_ns == t for p, t in drawn.items())  # none drawn again
    first_run = min(states, key=lambda run: states[run])  # the with-dropout model trains first
    assert resumed["steps_run"] == STEPS - states[first_run], states
    assert not list(tmp_path.rglob("*.partial*"))  # every file written whole, then renamed

    # The same as a run that was never interrupted.
    whole = run_to_end(library, tmp_path / "whole", fresh_cache, world_spec, tmp_path / "w.log")
    assert whole["videos_rendered"] == len(videos()) and whole["steps_run"] == STEPS
    assert whole["scores"] == resumed["scores"]
    a = torch.load(output / "trimodal.pt", weights_only=True)
    b = torch.load(tmp_path / "whole" / "trimodal.pt", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
