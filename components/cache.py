"""Persistent, content-addressed caches shared by every flow and process.

Keys are hashes of content (file bytes, text) plus the identity of whatever produced the value
(model, preprocessing, prompt), so a cache can never return a value computed from other inputs.
Storage is diskcache (SQLite underneath), which is safe for several processes at once.

Stored values are checked when read: an embedding must carry its own length and a digest that
binds it to its key (so a vector of the wrong length, a shuffled one or one from another model
is never returned), and a JSON value must parse. A value that fails is a miss: it is
recomputed and overwritten. A cache database that SQLite cannot read at all is reported as a
:class:`DamagedFileError` naming the folder to delete; everything in it can be recomputed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import diskcache
import numpy as np

from clipflows.components.errors import DamagedFileError
from clipflows.components.images import require_regular_file


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a regular file's bytes, read in chunks; a named pipe or device is an
    OSError before it is opened (reading one could block forever)."""
    require_regular_file(path)
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
        with self._readable():
            self._store = diskcache.Cache(
                str(self.directory), size_limit=2**40, eviction_policy="none"
            )

    @contextmanager
    def _readable(self) -> Iterator[None]:
        """Turn SQLite's 'not a database' / 'malformed' into one error naming the file and fix.

        Locking and I/O trouble (``OperationalError``) is not damage and passes through."""
        try:
            yield
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError):
                raise
            database = self.directory / "cache.db"
            raise DamagedFileError(
                f"The cache database {database} is damaged ({error}). Delete the folder "
                f"{self.directory}; it only holds values clipflows can recompute and will be "
                "rebuilt on the next run."
            ) from error

    def get(self, key: str) -> bytes | None:
        with self._readable():
            return self._store.get(key)

    def set(self, key: str, value: bytes) -> None:
        with self._readable():
            self._store.set(key, value)

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._readable():
            for key in keys:
                value = self._store.get(key)
                if value is not None:
                    found[key] = value
        return found

    def set_many(self, items: Mapping[str, bytes]) -> None:
        with self._readable(), self._store.transact():
            for key, value in items.items():
                self._store.set(key, value)

    def __len__(self) -> int:
        with self._readable():
            return len(self._store)

    def close(self) -> None:
        self._store.close()


_VECTOR_MAGIC = b"CFv1"
_VECTOR_HEADER = struct.Struct("<4sI16s")  # magic, length, digest of key + values


def _vector_digest(key: str, values: bytes) -> bytes:
    return hashlib.blake2b(key.encode() + b"\x00" + values, digest_size=16).digest()


def pack_vector(key: str, vector: np.ndarray) -> bytes:
    """A stored embedding: its length and a digest binding its values to its key, then values."""
    values = np.ascontiguousarray(vector, np.float32).ravel().tobytes()
    header = _VECTOR_HEADER.pack(_VECTOR_MAGIC, len(values) // 4, _vector_digest(key, values))
    return header + values


def unpack_vector(key: str, raw: bytes, dim: int) -> np.ndarray | None:
    """The stored embedding, or None when it is not exactly what ``pack_vector(key, ...)`` wrote
    for a vector of ``dim`` finite values (old format, wrong length, altered, NaN)."""
    if len(raw) != _VECTOR_HEADER.size + 4 * dim:
        return None
    magic, length, digest = _VECTOR_HEADER.unpack_from(raw)
    values = raw[_VECTOR_HEADER.size :]
    if magic != _VECTOR_MAGIC or length != dim or digest != _vector_digest(key, values):
        return None
    vector = np.frombuffer(values, dtype=np.float32)
    return vector if np.isfinite(vector).all() else None


class EmbeddingCache:
    """Embedding vectors (float32) keyed by content hash and producer identity.

    The key already names the producer (model, precision, preprocessing); each entry also
    records its length and a digest of key and values, checked on every read."""

    def __init__(self, directory: str | Path):
        self._kv = KeyValueCache(directory)
        self.rejected = 0  # entries read back damaged and treated as misses

    @staticmethod
    def key(producer: str, content_hash: str) -> str:
        """Cache key for one item encoded by one producer (model + preprocessing)."""
        return sha256_bytes(f"{producer}\x00{content_hash}".encode())

    def get_many(self, keys: Iterable[str], dim: int) -> dict[str, np.ndarray]:
        """The valid stored vectors of length ``dim``; damaged ones are left out (misses)."""
        found: dict[str, np.ndarray] = {}
        for key, raw in self._kv.get_many(keys).items():
            vector = unpack_vector(key, raw, dim)
            if vector is None:
                self.rejected += 1
            else:
                found[key] = vector
        return found

    def set_many(self, items: Mapping[str, np.ndarray]) -> None:
        self._kv.set_many({k: pack_vector(k, v) for k, v in items.items()})

    def __len__(self) -> int:
        return len(self._kv)


class JsonCache:
    """JSON values (LLM answers, captions) keyed by a hash of everything that produced them."""

    def __init__(self, directory: str | Path):
        self._kv = KeyValueCache(directory)
        self.rejected = 0  # entries that did not parse, treated as misses

    def get(self, key: str) -> Any | None:
        """The stored value, or None when absent or unreadable (the caller recomputes it)."""
        raw = self._kv.get(key)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except (ValueError, TypeError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            self.rejected += 1
            return None

    def set(self, key: str, value: Any) -> None:
        self._kv.set(key, json.dumps(value).encode())

    def __len__(self) -> int:
        return len(self._kv)
