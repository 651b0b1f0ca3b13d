"""Library search speed: 1 M synthetic vectors, exact (flat) vs IVF, side by side.

Prints build time, mean query latency (one query at a time and in a batch of 100) and IVF's
recall@10 against the exact answer. Run: ``python tests/bench/bench_vector_search.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from clipflows.components.music.vector_index import IndexConfig, VectorIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--probes", type=int, default=16)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    # Clustered data, like real embeddings (uniform noise would make IVF look worse than it is).
    centres = rng.normal(size=(1000, args.dim)).astype(np.float32)
    vectors = centres[rng.integers(0, 1000, args.vectors)] + 0.5 * rng.normal(
        size=(args.vectors, args.dim)
    ).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[rng.choice(args.vectors, 100, replace=False)] + 0.1 * rng.normal(
        size=(100, args.dim)
    ).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    results = {}
    for name, config in (
        ("exact", IndexConfig(exact_threshold=args.vectors)),
        ("ivf", IndexConfig(exact_threshold=1, probes=args.probes)),
    ):
        started = time.perf_counter()
        index = VectorIndex.build(vectors, config)
        built = time.perf_counter() - started
        started = time.perf_counter()
        for query in queries[:20]:
            index.search(query, 10)
        single = (time.perf_counter() - started) / 20
        started = time.perf_counter()
        _, ids = index.search(queries, 10)
        batch = (time.perf_counter() - started) / len(queries)
        results[name] = ids
        print(
            f"{name:6} build {built:7.1f} s, query {single * 1000:8.2f} ms alone, {batch * 1000:7.3f} ms each in a batch of 100"
        )
    recall = np.mean(
        [len(set(a) & set(b)) / 10 for a, b in zip(results["exact"], results["ivf"], strict=True)]
    )
    print(
        f"IVF recall@10 vs exact: {recall:.3f} ({args.vectors:,} vectors, dim {args.dim}, nprobe {args.probes})"
    )


if __name__ == "__main__":
    main()
