"""Two processes writing the embedding and LLM caches at once do not corrupt them."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import numpy as np

from clipflows.components.cache import EmbeddingCache, JsonCache

WRITES = 400
IN_STEP = 50  # writes between meetings: the workers write in lockstep, whatever the machine's load


def _write(directory: str, worker: int, meet: Any) -> None:
    """Each worker writes its own keys and a shared set of keys with identical values, meeting
    the other every IN_STEP writes, so their writes overlap by construction (a busy machine
    could otherwise run one process to its end before the other starts)."""
    embeddings = EmbeddingCache(Path(directory) / "embeddings")
    answers = JsonCache(Path(directory) / "llm")
    for i in range(WRITES):
        if i % IN_STEP == 0:
            meet.wait(timeout=120)
        vector = np.full(64, i, np.float32)
        embeddings.set_many({f"own-{worker}-{i}": vector, f"shared-{i}": vector})
        answers.set(f"own-{worker}-{i}", f'{{"i": {i}}}')
        answers.set(f"shared-{i}", f'{{"i": {i}}}')


def test_two_processes_write_both_caches_at_once(tmp_path):
    context = multiprocessing.get_context("spawn")  # real processes, no shared interpreter state
    meet = context.Barrier(2)
    workers = [context.Process(target=_write, args=(str(tmp_path), w, meet)) for w in range(2)]
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
