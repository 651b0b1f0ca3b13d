"""Damaged cache entries are misses (recomputed), damaged cache files are named with the fix."""

from __future__ import annotations

import numpy as np
import pytest

from clipflows.components.cache import EmbeddingCache, JsonCache, KeyValueCache
from clipflows.components.errors import DamagedFileError


def _stored(tmp_path, raw: bytes, key: str = "k") -> EmbeddingCache:
    KeyValueCache(tmp_path / "embeddings").set(key, raw)
    return EmbeddingCache(tmp_path / "embeddings")


def test_a_stored_vector_reads_back_equal(tmp_path):
    cache = EmbeddingCache(tmp_path / "embeddings")
    vector = np.linspace(-1, 1, 8, dtype=np.float32)
    cache.set_many({"k": vector})
    assert np.array_equal(cache.get_many(["k"], 8)["k"], vector)


def test_a_vector_of_the_wrong_length_is_a_miss(tmp_path):
    cache = EmbeddingCache(tmp_path / "embeddings")
    cache.set_many({"k": np.ones(4, np.float32)})
    assert cache.get_many(["k"], 8) == {}
    assert cache.rejected == 1


def test_raw_vectors_without_length_and_digest_are_misses(tmp_path):
    # The old format (bare float32 bytes) and bytes written by anything else.
    cache = _stored(tmp_path, np.ones(8, np.float32).tobytes())
    assert cache.get_many(["k"], 8) == {}


def test_a_shuffled_or_altered_vector_is_a_miss(tmp_path):
    cache = EmbeddingCache(tmp_path / "embeddings")
    cache.set_many({"k": np.arange(8, dtype=np.float32)})
    raw = KeyValueCache(tmp_path / "embeddings").get("k")
    header, values = raw[:-32], np.frombuffer(raw[-32:], np.float32)
    shuffled = header + values[::-1].tobytes()
    assert _stored(tmp_path, shuffled).get_many(["k"], 8) == {}


def test_a_vector_moved_to_another_key_is_a_miss(tmp_path):
    cache = EmbeddingCache(tmp_path / "embeddings")
    cache.set_many({"model-a": np.arange(8, dtype=np.float32)})
    raw = KeyValueCache(tmp_path / "embeddings").get("model-a")
    assert _stored(tmp_path, raw, key="model-b").get_many(["model-b"], 8) == {}


def test_a_vector_with_nan_is_a_miss(tmp_path):
    cache = EmbeddingCache(tmp_path / "embeddings")
    cache.set_many({"k": np.array([np.nan] + [0.0] * 7, np.float32)})
    assert cache.get_many(["k"], 8) == {}


def test_a_non_json_entry_is_a_miss_and_is_overwritten(tmp_path):
    KeyValueCache(tmp_path / "llm").set("k", b"\xff{not json")
    cache = JsonCache(tmp_path / "llm")
    assert cache.get("k") is None and cache.rejected == 1
    cache.set("k", "answer")
    assert cache.get("k") == "answer"


@pytest.mark.parametrize("where", ["whole file", "after the header"])
def test_a_damaged_database_names_the_folder_to_delete(tmp_path, where):
    folder = tmp_path / "embeddings"
    cache = EmbeddingCache(folder)
    cache.set_many({f"k{i}": np.ones(8, np.float32) for i in range(500)})
    del cache
    database = folder / "cache.db"
    data = bytearray(database.read_bytes())
    start = 0 if where == "whole file" else 100
    data[start:] = b"garbage!" * ((len(data) - start) // 8) + b"g" * ((len(data) - start) % 8)
    database.write_bytes(bytes(data))
    with pytest.raises(DamagedFileError) as raised:
        EmbeddingCache(folder).get_many([f"k{i}" for i in range(500)], 8)
    message = str(raised.value)
    assert str(database) in message and f"Delete the folder {folder}" in message
