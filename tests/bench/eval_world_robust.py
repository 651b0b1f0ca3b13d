"""The proposer on world pairs nobody tuned on (issue 25.3), against CLIP ranking the vocabulary.

dev: the 11 packaged pairs (one attribute changed, pure sets; the prompt was shaped on them).
test: pairs drawn from seeds (components/world/robust_pairs.py): two attributes changed at once,
each set 75 % its own side and 25 % the other's, difficulties easy / medium / hard in turn.
Each pair runs with the world's own caption words and with paraphrased captions ("crimson",
"scarlet" for red), where no single word's count gives the difference.

Rows, Acc@1 / Acc@5 by the strict world judge, mean ± sd over seeds (test) per difficulty:
- vocabulary: CLIP ranking every phrase of the captioning vocabulary, both directions (no LLM);
- words: the five caption words whose share differs most between the sets (no LLM);
- LLM: the LLM's proposals alone, ranked by CLIP.

Run: ``python tests/bench/eval_world_robust.py [--split dev|test|both] [--seeds 3] [--first-seed 0]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from clipflows.agents.proposer import uneven_words
from clipflows.components.set_difference.evaluation import evaluate
from clipflows.components.set_difference.ranking import Hypothesis
from clipflows.components.settings import LLMSettings, Settings, default_cache_dir
from clipflows.components.world.model import ensure_world_clip
from clipflows.components.world.robust_pairs import DIFFICULTIES, robust_pairs, write_mixed_pair
from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, world_judge, write_pair
from clipflows.components.world.vocabulary import WORLD_VOCABULARY, paraphrased_vocabulary
from clipflows.flows.set_difference import set_difference

METHODS = ("vocabulary", "words", "LLM")
PURITY = 0.75


def scores(pair, paths: tuple, settings: Settings, vocabulary) -> dict[str, tuple[float, float]]:
    """Acc@1 and Acc@5 of each method on one pair."""
    judge = world_judge(pair)
    alone = set_difference(
        *paths, settings=settings, vocabulary=vocabulary, llm_proposals=False,
        vocabulary_candidates=True,
    )  # fmt: skip
    proposed = set_difference(
        *paths, settings=settings, vocabulary=vocabulary, vocabulary_candidates=False
    )
    # The most uneven caption words, however small the gap (the proposer's hint shows only gaps
    # of half the captions or more, which a 75 % pure set seldom reaches).
    words = [
        Hypothesis(text=w.text, direction="A" if w.in_a > w.in_b else "B")
        for w in uneven_words(proposed.captions_a, proposed.captions_b, top=5, min_gap=0.0)
    ]
    out = {}
    for method, ranking in (
        ("vocabulary", alone.ranking),
        ("words", words),
        ("LLM", proposed.ranking),
    ):
        evaluation = evaluate(ranking, judge)
        out[method] = (evaluation.acc_at_1, evaluation.acc_at_5)
    return out


def spread(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {sd:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "both"), default="test")
    parser.add_argument("--seeds", type=int, default=3, help="Pair seeds (test).")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="The first pair seed (test): new seeds give pairs nobody has looked at.",
    )
    parser.add_argument("--pairs", type=int, default=6, help="Pairs per seed (test).")
    parser.add_argument("--images", type=int, default=40, help="Images per set.")
    parser.add_argument("--model", default=None, help="A registered LLM (default: the default).")
    parser.add_argument("--threads", type=int, help="LLM threads (default: the idle CPUs).")
    parser.add_argument("--cache-dir", type=Path, help="Keep LLM answers here between runs.")
    args = parser.parse_args(argv)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    spec = f"local-dir:{ensure_world_clip(default_cache_dir())}"
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            cache_dir=args.cache_dir or Path(tmp) / "cache",
            clip=spec,
            llm=LLMSettings(model=args.model, threads=args.threads),
        )
        for split in splits:
            seeds = (
                range(args.first_seed, args.first_seed + args.seeds)
                if split == "test"
                else range(1)
            )
            captions = {"own words": WORLD_VOCABULARY, "paraphrased": paraphrased_vocabulary()}
            # (captions, difficulty, method) -> per seed: [sum @1, sum @5, pairs]
            totals: dict[tuple[str, str, str], list[list[float]]] = {}
            start = time.perf_counter()
            for run, seed in enumerate(seeds):
                pairs = robust_pairs(seed, args.pairs) if split == "test" else WORLD_SET_PAIRS
                for pair in pairs:
                    folder = Path(tmp) / split / str(seed)
                    if split == "test":
                        paths = write_mixed_pair(pair, folder, args.images, PURITY)
                    else:
                        paths = tuple(str(p) for p in write_pair(pair, folder, args.images))
                    for name, vocabulary in captions.items():
                        for method, (at1, at5) in scores(pair, paths, settings, vocabulary).items():
                            per_seed = totals.setdefault((name, pair.difficulty, method), [])
                            while len(per_seed) <= run:
                                per_seed.append([0.0, 0.0, 0])
                            per_seed[run][0] += at1
                            per_seed[run][1] += at5
                            per_seed[run][2] += 1
                    if run == 0:
                        print(f"  {split} pair {pair.name}: {pair.truth}", flush=True)
            print(f"== {split}: {len(seeds)} seed(s), {time.perf_counter() - start:.0f} s")
            for name in captions:
                for difficulty in DIFFICULTIES:
                    cells = []
                    for method in METHODS:
                        runs = totals.get((name, difficulty, method))
                        if not runs:
                            continue
                        at1 = [r[0] / r[2] for r in runs if r[2]]
                        at5 = [r[1] / r[2] for r in runs if r[2]]
                        cells.append(f"{method} {spread(at1)} / {spread(at5)}")
                    if cells:
                        print(f"  {name:<12} {difficulty:<7} " + " | ".join(cells))


if __name__ == "__main__":
    main()
