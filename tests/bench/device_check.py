"""The same components on an accelerator: train the world CLIP, check its accuracy, encode.

Prints (and writes as JSON with --out) the world CLIP's training time and zero-shot accuracy on
the chosen device, and ClipEncoder throughput for ViT-B-32 (random weights) in fp32 and bf16
with their agreement. Run on a GPU machine: ``python tests/bench/device_check.py --device cuda``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.settings import Settings
from clipflows.components.world.evaluation import evaluate_world, held_out_set
from clipflows.components.world.model import ensure_world_clip
from clipflows.components.world.scenes import WorldConfig, write_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    report: dict = {"device": args.device, "torch": torch.__version__}
    if args.device.startswith("cuda"):
        report["gpu"] = torch.cuda.get_device_name(0)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        started = time.perf_counter()
        model_dir = ensure_world_clip(cache, device=args.device)
        report["world_clip_train_s"] = round(time.perf_counter() - started, 1)
        settings = Settings(cache_dir=cache, device=args.device, clip=f"local-dir:{model_dir}")
        accuracy = evaluate_world(ClipEncoder(settings=settings), held_out_set(cache / "held-out"))
        report["world_zero_shot_accuracy"] = accuracy.accuracy
        images = write_dataset(WorldConfig(image_size=224), args.images, Path(tmp) / "images")
        paths = sorted((images / "images").glob("*.png"))
        vectors = {}
        for precision in ("fp32", "bf16"):
            encoder = ClipEncoder(
                "ViT-B-32:random", settings=settings, precision=precision, use_cache=False,
                batch_size=256,
            )  # fmt: skip
            encoder.encode_images(paths[:256])  # warm-up
            started = time.perf_counter()
            vectors[precision] = encoder.encode_images(paths).vectors
            seconds = time.perf_counter() - started
            report[f"vit_b32_{precision}_images_per_s"] = round(len(paths) / seconds, 1)
        cosine = np.sum(vectors["fp32"] * vectors["bf16"], axis=1)
        report["bf16_vs_fp32_min_cosine"] = round(float(cosine.min()), 5)
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
