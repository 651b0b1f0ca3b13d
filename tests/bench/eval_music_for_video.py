"""Held-out video/text -> music retrieval over several training seeds, side by side.

    .venv/bin/python tests/bench/eval_music_for_video.py [LIBRARY_DIR] [--seeds 5]

Needs a described library (``clipflows music-describe -o DIR``; default: the cache's). Prints
recall@1/5/10 and median rank (mean and spread over seeds) for random, the untrained model, the
model trained without text dropout and the model trained with it, for video, text and both.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from clipflows.components.music.retrieval_evaluation import QUERY_MODES, evaluate_retrieval
from clipflows.components.music.training import new_model, train_retrieval
from clipflows.components.settings import load_settings
from clipflows.flows.music_retrieval import MusicRetrievalConfig, _library, paired_set_task
from clipflows.flows.runtime.temporary_server import tie_temporary_server


def main() -> None:
    tie_temporary_server()  # a killed run leaves no temporary Prefect server behind
    parser = argparse.ArgumentParser()
    parser.add_argument("library", nargs="?", default=None)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    settings = load_settings()
    config = MusicRetrievalConfig()
    paired, _, _ = paired_set_task.fn(_library(args.library, settings), config, settings)
    train = paired.features("train")
    variants = {
        "untrained": None,
        "no text dropout": {"text_dropout": 0.0, "video_dropout": 0.0},
        "text dropout": {},
    }
    results: dict[tuple[str, str], list] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for seed in range(args.seeds):
            for name, update in variants.items():
                training = config.training.model_copy(update={"seed": seed, **(update or {})})
                if update is None:
                    model = new_model(training, train).eval()
                else:
                    model, _ = train_retrieval(train, training, Path(scratch) / f"{name}{seed}")
                scores = evaluate_retrieval(model, paired)
                for mode in QUERY_MODES:
                    results.setdefault((name, mode), []).append(scores[mode])
    chance = scores["chance"]
    print(
        f"held-out: {len(paired.clip_rows('test'))} clips of "
        f"{len({c.track for c in paired.clips if c.split == 'test'})} tracks; "
        f"{len(paired.video_rows('train'))} training videos; {args.seeds} seeds\n"
    )
    print("| model | query | R@1 | R@5 | R@10 | median rank |\n|---|---|---|---|---|---|")
    print(
        f"| random | any | {chance.recall[1]:.3f} | {chance.recall[5]:.3f} | "
        f"{chance.recall[10]:.3f} | {chance.median_rank:.1f} |"
    )
    for (name, mode), runs in results.items():
        cells = [_mean_sd([r.recall[k] for r in runs]) for k in (1, 5, 10)]
        cells.append(_mean_sd([r.median_rank for r in runs], ".1f"))
        print(f"| {name} | {mode} | " + " | ".join(cells) + " |")


def _mean_sd(values: list[float], fmt: str = ".3f") -> str:
    return f"{np.mean(values):{fmt}} ± {np.std(values):{fmt}}"


if __name__ == "__main__":
    main()
