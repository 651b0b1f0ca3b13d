"""Separation speed on this CPU: the real-time factor of the cached small model.

Prints seconds of audio separated per second of compute (goal: >= 50x real time), for the
streaming path the ``separate`` flow uses, batch by batch.
Run: ``python tests/bench/bench_separation.py --seconds 120``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from clipflows.components.separation.inference import Separator
from clipflows.components.separation.query_encoders import query_encoder
from clipflows.components.separation.store import DEFAULT_SEPARATOR, ensure_separator
from clipflows.components.separation.training import load_separator
from clipflows.components.settings import Settings, default_cache_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = ensure_separator(Settings(cache_dir=default_cache_dir()))
    model, config = load_separator(folder)
    separator = Separator(model, config.audio)
    query = query_encoder(config.query_encoder).encode_texts(["a dog barking"])[0]
    rate = config.audio.sample_rate
    audio = np.random.default_rng(0).normal(0, 0.1, int(args.seconds * rate)).astype(np.float32)
    separator.separate(audio[: rate * 4], query)  # warm-up
    started = time.perf_counter()
    separator.separate(audio, query)
    elapsed = time.perf_counter() - started
    params = sum(p.numel() for p in model.parameters())
    print(
        f"{args.seconds:.0f} s of audio at {rate} Hz in {elapsed:.2f} s with {args.threads} "
        f"threads: {args.seconds / elapsed:.0f}x real time (goal >= 50x); model {params:,} "
        f"parameters, config {DEFAULT_SEPARATOR.key()}"
    )


if __name__ == "__main__":
    main()
