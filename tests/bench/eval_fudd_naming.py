"""FuDD without the answers in the prompt (issue 25.5): the world class task, dev and test naming.

The 24 world classes are colour x shape, the shape named in another language: Italian, French
and German on dev ("red cerchio"), Spanish and Dutch on test ("red círculo", "blue driehoek"),
components/world/class_task.py. The LLM gets the class names and a user's sentence about the
pictures ("pictures of a single coloured object on a plain background"), never the shapes they
may show. Each naming runs on three world CLIPs trained with seeds 0, 1 and 2 (the default world
CLIP is seed 0; the others are trained on first use, about 10 minutes each on 2 cores).

Rows, mean and spread over the CLIP seeds, on the test images of each task (k = 4): one template
and the 80-template ensemble (no LLM), the LLM's generic per-class descriptions, its differential
descriptions (FuDD's paper rule) and FuDD + fusion, and the margin of FuDD over the ensemble.
LLM answers do not depend on the CLIP beyond which pairs are asked, so later seeds mostly hit the
answer cache.

Run: ``python tests/bench/eval_fudd_naming.py [--split dev|test|both] [--seeds 3]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from clipflows.components.classification.report import Method
from clipflows.components.settings import LLMSettings, Settings, default_cache_dir
from clipflows.components.world.class_task import Naming, world_class_task
from clipflows.components.world.model import ensure_world_clip
from clipflows.components.world.recipe import WorldClipRecipe
from clipflows.flows.classify import ClassifyConfig, classify

ROWS = (Method.ONE_TEMPLATE, Method.ENSEMBLE, Method.GENERIC, Method.FUDD, Method.FUSION)


def world_clip_spec(seed: int) -> str:
    """The world CLIP trained with ``seed`` (seed 0 is the default one) in the user's cache, where
    every run shares it, as a spec."""
    recipe = WorldClipRecipe()
    recipe = recipe.model_copy(
        update={"training": recipe.training.model_copy(update={"seed": seed})}
    )
    return f"local-dir:{ensure_world_clip(default_cache_dir(), recipe)}"


def spread(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):6.1%} ± {sd:4.1%}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "both"), default="dev")
    parser.add_argument("--seeds", type=int, default=3, help="World CLIP training seeds.")
    parser.add_argument("--k", type=int, default=4, help="FuDD ambiguity-set size.")
    parser.add_argument("--model", default=None, help="A registered LLM (default: the default).")
    parser.add_argument("--threads", type=int, help="LLM threads (default: the idle CPUs).")
    parser.add_argument("--cache-dir", type=Path, help="Keep LLM answers here between runs.")
    args = parser.parse_args(argv)
    namings: list[Naming] = ["dev", "test"] if args.split == "both" else [args.split]
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.cache_dir or Path(tmp)
        for naming in namings:
            figures: dict[str, list[float]] = {row: [] for row in ROWS}
            start, calls, example = time.perf_counter(), 0, ""
            for seed in range(args.seeds):
                settings = Settings(
                    cache_dir=cache_dir,
                    clip=world_clip_spec(seed),
                    llm=LLMSettings(model=args.model, threads=args.threads),
                )
                task = world_class_task(cache_dir / f"world-classes-{naming}", naming=naming)
                result = classify(task, settings=settings, config=ClassifyConfig(k=args.k))
                calls += result.llm_calls
                for row in ROWS:
                    figures[row].append(result.accuracy(row))
                if seed == 0 and result.predictions:
                    fixed = [p for p in result.predictions if p.fudd == p.truth != p.first_pass]
                    example = f"{fixed[0].first_pass} -> {fixed[0].fudd}" if fixed else ""
            print(f"== {naming} naming, {args.seeds} world CLIP seeds, k = {args.k}")
            for row in ROWS:
                print(f"  {row:<32} {spread(figures[row])}")
            margin = [
                f - e for f, e in zip(figures[Method.FUDD], figures[Method.ENSEMBLE], strict=True)
            ]
            print(f"  {'FuDD - ensemble (margin)':<32} {spread(margin)}")
            print(f"  LLM calls {calls}, {time.perf_counter() - start:.0f} s; fixed: {example}")


if __name__ == "__main__":
    main()
