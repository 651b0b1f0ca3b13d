"""Image-encoding throughput: ClipEncoder against plain open_clip usage, same images, one run.

Plain usage is what the open_clip README shows: decode with PIL, preprocess, batch of 8,
``model.encode_image`` under ``torch.no_grad()``. Both sides use the same random-weight
architecture (no pretrained weights are needed to measure speed) and skip the embedding cache.
Run: ``make bench`` or ``python tests/bench/bench_encode.py --images 96 --model ViT-B-32``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import open_clip
import torch
from PIL import Image

from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.settings import Settings
from clipflows.components.world.scenes import WorldConfig, write_dataset


def plain_open_clip(
    model_name: str, paths: list[Path], batch_size: int = 8
) -> tuple[float, np.ndarray]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model, _, preprocess = open_clip.create_model_and_transforms(model_name)
    model.eval()
    started = time.perf_counter()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(paths), batch_size):
            images = [
                preprocess(Image.open(p).convert("RGB")) for p in paths[start : start + batch_size]
            ]
            features = model.encode_image(torch.stack(images))
            outputs.append(torch.nn.functional.normalize(features, dim=-1).numpy())
    return time.perf_counter() - started, np.concatenate(outputs)


def clipflows_encoder(
    model_name: str, paths: list[Path], cache_dir: Path, **options
) -> tuple[float, np.ndarray, str]:
    encoder = ClipEncoder(
        f"{model_name}:random", settings=Settings(cache_dir=cache_dir), use_cache=False, **options
    )
    encoder.encode_images(paths[:8])  # warm-up
    started = time.perf_counter()
    result = encoder.encode_images(paths)
    return (
        time.perf_counter() - started,
        result.vectors,
        f"{encoder.precision}, batch {encoder.batch_size}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--model", default="ViT-B-32")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_dataset(
            WorldConfig(image_size=256, seed=5), args.images, Path(tmp) / "images"
        )
        paths = sorted((folder / "images").glob("*.png"))
        # Warm-up both paths once (allocator, oneDNN kernels), then measure side by side.
        plain_open_clip(args.model, paths[:8])
        base_s, base = plain_open_clip(args.model, paths)
        print(
            f"{args.model}, {len(paths)} images of 256x256, torch threads {torch.get_num_threads()}"
        )
        print(f"{'variant':40} {'img/s':>8} {'ratio':>6} {'min cos vs plain':>17}")
        print(
            f"{'plain open_clip, fp32, batch 8':40} {len(paths) / base_s:8.1f} {1.0:6.2f} {1.0:17.5f}"
        )
        variants = {
            "ClipEncoder fp32, batch 8": dict(batch_size=8, precision="fp32"),
            "ClipEncoder fp32, batch 32": dict(batch_size=32, precision="fp32"),
            "ClipEncoder bf16, batch 8": dict(batch_size=8, precision="bf16"),
            "ClipEncoder defaults": dict(),
        }
        for name, options in variants.items():
            seconds, vectors, label = clipflows_encoder(
                args.model, paths, Path(tmp) / "cache", **options
            )
            name = name if options else f"ClipEncoder defaults ({label})"
            agreement = float((vectors * base).sum(axis=1).min())
            print(
                f"{name:40} {len(paths) / seconds:8.1f} {base_s / seconds:6.2f} {agreement:17.5f}"
            )


if __name__ == "__main__":
    main()
