"""The models a worker process keeps between tasks: one CLIP encoder, one LLM and one sentence
encoder per settings.

Models do not travel between processes, so a task receives settings and asks here for the
encoder or LLM they name. Loading a CLIP checkpoint or a GGUF file takes seconds to minutes;
without this, every shard of a many-worker run would pay it again. A small per-process store is
the one piece of module state we keep: it is bounded (the models most recently asked for) and
holds nothing a task could not rebuild from its settings.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from clipflows.agents.llm import LLM, create_llm
from clipflows.components.cache import stable_hash
from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.clip.spec import parse_spec
from clipflows.components.errors import ClipflowsError
from clipflows.components.sentence import SentenceEncoder
from clipflows.components.settings import Settings

T = TypeVar("T")
KEEP = 2  # models of each kind kept per process


class _ResidentModels:
    """A thread-safe, bounded map from a settings key to a loaded model."""

    def __init__(self, keep: int = KEEP):
        self._keep = keep
        self._models: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, build: Callable[[], T]) -> T:
        """The model for ``key``, built once even when threads ask at the same time."""
        with self._lock:  # loads are rare; holding the lock keeps one load per key
            if key not in self._models:
                self._models[key] = build()
                while len(self._models) > self._keep:
                    self._models.popitem(last=False)
            self._models.move_to_end(key)
            return self._models[key]  # type: ignore[return-value]


_ENCODERS = _ResidentModels()
_LLMS = _ResidentModels()
_SENTENCES = _ResidentModels(keep=1)  # one packaged model; it reads no settings


def encoder_key(settings: Settings) -> str:
    """What determines a ClipEncoder: the spec, device, precision, cache folder, and for local
    weights their size and modification time (a model retrained in place is loaded again)."""
    return stable_hash(
        [
            settings.clip,
            settings.device,
            settings.precision,
            str(settings.cache_dir),
            _local_weights_stamp(settings.clip),
        ]
    )


def _local_weights_stamp(spec: str) -> list[tuple[str, int, int]]:
    """(name, size, mtime) of the weight files a local spec names; [] for other specs or when
    they are missing (the encoder then raises the actionable error)."""
    try:
        parsed = parse_spec(spec)
    except ClipflowsError:
        return []
    if parsed.kind == "local-dir":
        root = Path(parsed.source)
        files = sorted(root.iterdir()) if root.is_dir() else []
    elif parsed.kind == "checkpoint":
        files = [Path(parsed.source)]
    else:
        return []
    stamps = []
    for path in files:
        if path.is_file():
            status = path.stat()
            stamps.append((path.name, status.st_size, status.st_mtime_ns))
    return stamps


def llm_key(settings: Settings) -> str:
    """What determines an LLM client: its settings (the key's hash, never the key) and cache."""
    config = settings.llm.model_dump(mode="json", exclude={"api_key"})
    secret = stable_hash(settings.llm.api_key.get_secret_value())
    return stable_hash([config, secret, str(settings.cache_dir)])


def worker_encoder(settings: Settings) -> ClipEncoder:
    """This process's ClipEncoder for ``settings`` (thread-safe for encoding)."""
    return _ENCODERS.get(encoder_key(settings), lambda: ClipEncoder(settings=settings))


def worker_llm(settings: Settings) -> LLM:
    """An LLM over this process's chat model for ``settings``, with its own call counter,
    so a task can report exactly the calls it made."""
    shared = _LLMS.get(llm_key(settings), lambda: create_llm(settings))
    return dataclasses.replace(shared, calls=0)


def worker_sentence_encoder(settings: Settings) -> SentenceEncoder:
    """This process's sentence encoder (the judge's similarity of words to a truth)."""
    return _SENTENCES.get("sentence", lambda: SentenceEncoder(settings))
