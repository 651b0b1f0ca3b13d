"""The music tagger: audio files in, tag probabilities and the tagger's embeddings out.

``musicnn`` (MagnaTagATune or Million Song Dataset models, shipped in the PyPI
package), runs in a subprocess of its own (see tagger_worker); results are cached by the file's
content hash and the tagger, so a library is tagged once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from clipflows.components.cache import JsonCache, sha256_file
from clipflows.components.errors import ClipflowsError, MissingWeightsError


class TaggerError(ClipflowsError):
    """The tagger could not run, or could not read a file."""


class TrackTags(BaseModel):
    tags: dict[str, float]
    embedding: list[float]  # the tagger's penultimate layer, averaged over time
    # The same layer per window of patch_seconds, back to back from the start (empty when the
    # tagger has no windows); music clips of a track are pooled from these.
    patch_embeddings: list[list[float]] = []
    patch_seconds: float = 3.0

    def top(self, count: int = 8) -> list[str]:
        return [t for t, _ in sorted(self.tags.items(), key=lambda kv: -kv[1])[:count]]


class MusicnnTagger:
    """musicnn's 50-tag models: ``MTT_musicnn`` (default) or ``MSD_musicnn``."""

    def __init__(self, model: str = "MTT_musicnn", cache: JsonCache | None = None):
        self.model = model
        self.identity = f"musicnn:{model}:float32-input:patches"
        self.cache = cache
        self.runs = 0  # worker processes started (zero when everything came from the cache)

    def tag(self, paths: Sequence[Path]) -> dict[str, TrackTags | str]:
        keys = {str(p): f"{self.identity}:{sha256_file(p)}" for p in paths}
        found: dict[str, TrackTags | str] = {}
        for path, key in keys.items():
            cached = self.cache.get(key) if self.cache is not None else None
            if isinstance(cached, str):
                try:
                    value = json.loads(cached)
                    found[path] = (
                        value["error"] if "error" in value else TrackTags.model_validate(value)
                    )
                except (ValueError, TypeError):  # a damaged entry is a miss: tagged again
                    pass
        missing = [p for p in keys if p not in found]
        if missing:
            self.runs += 1
            for path, value in self._run(missing).items():
                # Failures are cached too: the same bytes fail the same way next time.
                found[path] = (
                    value["error"] if "error" in value else TrackTags.model_validate(value)
                )
                if self.cache is not None:
                    self.cache.set(keys[path], json.dumps(value))
        return found

    def _run(self, paths: list[str]) -> dict:
        command = [
            sys.executable,
            "-m",
            "clipflows.components.music.tagger_worker",
            self.model,
            *paths,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            if "No module named" in done.stderr:
                raise MissingWeightsError(
                    "musicnn needs: pip install --no-deps musicnn tf-keras==2.21.0 and "
                    "tensorflow-cpu==2.21.0 (make installs them)."
                )
            raise TaggerError(f"musicnn failed: {done.stderr.strip().splitlines()[-1:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])
