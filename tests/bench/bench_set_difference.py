"""Set-difference ranking cost, measured side by side in one run.

Prints: the time to encode N world images once (no cache), the time to rank 30 hypotheses over
them (text encoding, one matrix product, AUROC, bootstrap CI, Welch t-tests), their ratio
(target <= 1.1), and a warm rerun of encode + rank through the caches (target <= 1 s).
Run: ``python tests/bench/bench_set_difference.py --images 1000``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.set_difference.ranking import Hypothesis, RankerConfig, rank_hypotheses
from clipflows.components.settings import Settings, default_cache_dir
from clipflows.components.world.model import ensure_world_clip
from clipflows.components.world.scenes import COLOURS, SHAPES, WorldConfig, write_dataset

HYPOTHESES = [Hypothesis(text=f"{c} {s}s", direction="A") for c in COLOURS for s in SHAPES][:24] + [
    Hypothesis(text=t, direction="B")
    for t in ("large shapes", "small shapes", "two shapes", "one shape", "white background", "gray")
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    args = parser.parse_args()
    spec = f"local-dir:{ensure_world_clip(default_cache_dir())}"
    with tempfile.TemporaryDirectory() as tmp:
        half = args.images // 2
        set_a = write_dataset(WorldConfig(colours=["red", "blue"], seed=1), half, Path(tmp) / "a")
        set_b = write_dataset(WorldConfig(colours=["green", "blue"], seed=2), half, Path(tmp) / "b")
        paths_a = sorted((set_a / "images").glob("*.png"))
        paths_b = sorted((set_b / "images").glob("*.png"))
        settings = Settings(cache_dir=Path(tmp) / "cache", clip=spec)

        cold = ClipEncoder(settings=settings)
        cold.encode_images(paths_a[:8])  # warm-up of the model, not of the cache
        started = time.perf_counter()
        a, b = cold.encode_images(paths_a), cold.encode_images(paths_b)
        encode_s = time.perf_counter() - started

        started = time.perf_counter()
        vectors = cold.encode_texts([h.text for h in HYPOTHESES])
        ranking = rank_hypotheses(a.vectors, b.vectors, HYPOTHESES, vectors, RankerConfig())
        rank_s = time.perf_counter() - started

        warm = ClipEncoder(settings=settings)
        started = time.perf_counter()
        a2, b2 = warm.encode_images(paths_a), warm.encode_images(paths_b)
        vectors2 = warm.encode_texts([h.text for h in HYPOTHESES])
        rank_hypotheses(a2.vectors, b2.vectors, HYPOTHESES, vectors2, RankerConfig())
        warm_s = time.perf_counter() - started

    print(f"{args.images} world images, {len(HYPOTHESES)} hypotheses, world CLIP")
    print(f"encode images once (cold):           {encode_s:7.3f} s")
    print(f"rank 30 hypotheses (cold text cache): {rank_s:7.3f} s")
    print(f"ratio rank / encode:                  {rank_s / encode_s:7.3f}  (target <= 1.1)")
    print(f"warm rerun, encode + rank:            {warm_s:7.3f} s  (target <= 1 s)")
    print(
        f"top hypothesis: {ranking[0].text} ({ranking[0].direction}), AUROC {ranking[0].auroc:.3f}"
    )


if __name__ == "__main__":
    main()
