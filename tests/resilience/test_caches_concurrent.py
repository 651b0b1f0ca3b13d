"""Two processes writing the embedding and LLM caches at once do not corrupt them."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np

from clipflows.components.cache import EmbeddingCache, JsonCache

WRITES = 400


def _write(directory: str, worker: int) -> None:
    """Each worker writes its own keys and a shared set of keys with identical values."""
    embeddings = EmbeddingCache(Path(directory) / "embeddings")
    answers = JsonCache(Path(directory) / "llm")
    for i in range(WRITES):
        vector = np.full(64, i, np.float32)
        embeddings.set_many({f"own-{worker}-{i}": vector, f"shared-{i}": vector})
        answers.set(f"own-{worker}-{i}", f'{{"i": {i}}}')
        answers.set(f"shared-{i}", f'{{"i": {i}}}')


def test_two_processes_write_both_caches_at_once(tmp_path):
    context = multiprocessing.get_context("spawn")  # real processes, no shared interpreter state
    workers = [context.Process(target=_write, args=(str(tmp_path), w)) for w in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=300)
        assert process.exitcode == 0
    embeddings = EmbeddingCache(tmp_path / "embeddings")
    answers = JsonCache(tmp_path / "llm")
    assert len(embeddings) == 3 * WRITES and len(answers) == 3 * WRITES
    keys = [f"own-{w}-{i}" for w in range(2) for i in range(WRITES)]
    keys += [f"shared-{i}" for i in range(WRITES)]
    vectors = embeddings.get_many(keys, 64)
    assert len(vectors) == len(keys)
    for key, vector in vectors.items():
        assert np.array_equal(vector, np.full(64, int(key.rsplit("-", 1)[1]), np.float32))
    assert all(answers.get(k) == f'{{"i": {int(k.rsplit("-", 1)[1])}}}' for k in keys)
