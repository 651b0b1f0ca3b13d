"""Ranking cost: rank_hypotheses (AUROC, bootstrap CI, Welch test) against one ``images @ H.T``.

Random L2-normalised embeddings stand in for CLIP's: N images split evenly into sets A and B,
30 hypotheses, half of them per direction. Compare the printed times with the encoding times of
``bench_encode.py`` to see which step dominates a set-difference run.
Run: ``python tests/bench/bench_ranking.py --images 1000 --hypotheses 30 --dim 512``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from clipflows.components.set_difference.ranking import Hypothesis, RankerConfig, rank_hypotheses


def normalised(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    vectors = rng.normal(size=(rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def best_of(repeats: int, run) -> float:
    """The fastest of ``repeats`` timed runs, in seconds (least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="images in A and B together")
    parser.add_argument("--hypotheses", type=int, default=30)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    images = normalised(rng, args.images, args.dim)
    images_a, images_b = images[: args.images // 2], images[args.images // 2 :]
    vectors = normalised(rng, args.hypotheses, args.dim)
    hypotheses = [
        Hypothesis(text=f"hypothesis {i}", direction="AB"[i % 2]) for i in range(args.hypotheses)
    ]
    config = RankerConfig(bootstrap=args.bootstrap)

    rank_hypotheses(images_a, images_b, hypotheses, vectors, config)  # warm-up
    rank_s = best_of(
        args.repeats, lambda: rank_hypotheses(images_a, images_b, hypotheses, vectors, config)
    )
    matmul_s = best_of(10 * args.repeats, lambda: images @ vectors.T)  # cheap: more tries
    print(
        f"{args.images} images x {args.hypotheses} hypotheses, d={args.dim}, "
        f"{args.bootstrap} bootstrap resamples (best of {args.repeats} runs)"
    )
    print(f"rank_hypotheses: {rank_s * 1e3:9.2f} ms")
    print(f"images @ H.T:    {matmul_s * 1e3:9.3f} ms")
    print(f"ratio:           {rank_s / matmul_s:9.0f}x")


if __name__ == "__main__":
    main()
