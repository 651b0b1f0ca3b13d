"""Vector search with faiss: exact inner product for small collections, IVF past a threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from clipflows.components.files import written_whole


class IndexConfig(BaseModel):
    exact_threshold: int = Field(default=50_000, ge=1)  # above this many vectors, use IVF
    lists: int | None = None  # IVF cells; default about 4 * sqrt(n)
    probes: int = Field(default=16, ge=1)


class VectorIndex:
    """Inner-product search over L2-normalised float32 vectors (cosine similarity)."""

    def __init__(self, index, config: IndexConfig):
        self.index = index
        self.config = config

    @classmethod
    def build(cls, vectors: np.ndarray, config: IndexConfig | None = None) -> VectorIndex:
        import faiss

        config = config or IndexConfig()
        vectors = np.ascontiguousarray(vectors, np.float32)
        count, dim = vectors.shape
        if count <= config.exact_threshold:
            index = faiss.IndexFlatIP(dim)
        else:
            lists = config.lists or int(4 * np.sqrt(count))
            index = faiss.IndexIVFFlat(
                faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT
            )
            sample = vectors[
                np.random.default_rng(0).choice(count, min(count, lists * 64), replace=False)
            ]
            index.train(sample)
            index.nprobe = config.probes
        index.add(vectors)
        return cls(index, config)

    @property
    def exact(self) -> bool:
        return not hasattr(self.index, "nprobe")

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each [n_queries, k]; ids are -1 where fewer than k vectors exist."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), np.float32)
        return self.index.search(queries, min(k, len(self)))

    def save(self, path: Path) -> None:
        import faiss

        with written_whole(path) as partial:
            faiss.write_index(self.index, str(partial))

    @classmethod
    def load(cls, path: Path, config: IndexConfig | None = None) -> VectorIndex:
        import faiss

        index = faiss.read_index(str(path))
        if hasattr(index, "nprobe"):
            index.nprobe = (config or IndexConfig()).probes
        return cls(index, config or IndexConfig())
