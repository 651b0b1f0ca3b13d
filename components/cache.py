"""Persistent, content-addressed caches shared by every flow and process.

Keys are hashes of content (file bytes, text) plus the identity of whatever produced the value
(model, preprocessing, prompt), so a cache can never return a value computed from other inputs.
Storage is diskcache (SQLite underneath), which is safe for several processes at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import diskcache
import numpy as np


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def stable_hash(value: Any) -> str:
    """Hash of a JSON-serialisable value that does not depend on key order."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return sha256_bytes(text.encode())


class KeyValueCache:
    """A namespaced on-disk store of bytes values; a thin layer over diskcache."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._store = diskcache.Cache(str(self.directory), size_limit=2**40, eviction_policy="none")

    def get(self, key: str) -> bytes | None:
        return self._store.get(key)

    def set(self, key: str, value: bytes) -> None:
        self._store.set(key, value)

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for key in keys:
            value = self._store.get(key)
            if value is not None:
                found[key] = value
        return found

    def set_many(self, items: Mapping[str, bytes]) -> None:
        with self._store.transact():
            for key, value in items.items():
                self._store.set(key, value)

    def __len__(self) -> int:
        return len(self._store)

    def close(self) -> None:
        self._store.close()


class EmbeddingCache:
    """Embedding vectors (float32) keyed by content hash and producer identity."""

    def __init__(self, directory: str | Path):
        self._kv = KeyValueCache(directory)

    @staticmethod
    def key(producer: str, content_hash: str) -> str:
        """Cache key for one item encoded by one producer (model + preprocessing)."""
        return sha256_bytes(f"{producer}\x00{content_hash}".encode())

    def get_many(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        return {k: np.frombuffer(v, dtype=np.float32) for k, v in self._kv.get_many(keys).items()}

    def set_many(self, items: Mapping[str, np.ndarray]) -> None:
        self._kv.set_many(
            {k: np.ascontiguousarray(v, np.float32).tobytes() for k, v in items.items()}
        )

    def __len__(self) -> int:
        return len(self._kv)


class JsonCache:
    """JSON values (LLM answers, captions) keyed by a hash of everything that produced them."""

    def __init__(self, directory: str | Path):
        self._kv = KeyValueCache(directory)

    def get(self, key: str) -> Any | None:
        raw = self._kv.get(key)
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any) -> None:
        self._kv.set(key, json.dumps(value).encode())

    def __len__(self) -> int:
        return len(self._kv)
