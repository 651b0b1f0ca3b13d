"""FuDD's LLM cost, measured side by side in one run.

On the world class task (24 classes, ambiguous names), with the embedded LLM: how many class
pairs exist, how many occur in some image's top-k ambiguity set, how many LLM calls a cold run
makes for them; then a warm rerun (LLM calls and wall time, target 0 calls), and a second image
set with the same classes (calls only for pairs not yet described).
Run: ``python tests/bench/bench_classify.py --k 5`` (a cold run is ~1 LLM call per pair).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from clipflows.components.settings import Settings, default_cache_dir
from clipflows.components.world.class_task import world_class_task
from clipflows.components.world.model import ensure_world_clip
from clipflows.components.world.scenes import WorldConfig
from clipflows.flows.classify import ClassifyConfig, classify
from clipflows.flows.runtime.temporary_server import tie_temporary_server


def main() -> None:
    tie_temporary_server()  # a killed run leaves no temporary Prefect server behind
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--images", type=int, default=240)
    parser.add_argument("--colours", default="", help="Comma-separated subset, for a quick run.")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    spec = f"local-dir:{ensure_world_clip(default_cache_dir())}"
    world = WorldConfig(colours=args.colours.split(",")) if args.colours else WorldConfig()
    config = ClassifyConfig(descriptions="llm", k=args.k, generic=False, ensemble=False)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(cache_dir=Path(tmp) / "cache", clip=spec)
        first_set = world_class_task(Path(tmp) / "a", args.images, world)
        second_set = world_class_task(
            Path(tmp) / "b", args.images, world.model_copy(update={"seed": 7})
        )
        runs = []
        for label, data in (
            ("cold", first_set),
            ("warm rerun", first_set),
            ("new images", second_set),
        ):
            start = time.perf_counter()
            result = classify(data, settings=settings, config=config)
            runs.append((label, result, time.perf_counter() - start))
    table = Table(
        "run",
        "pairs possible",
        "pairs occurring",
        "LLM calls",
        "calls / possible",
        "wall s",
        "FuDD acc",
    )
    for label, result, seconds in runs:
        table.add_row(
            label,
            str(result.pairs_possible),
            str(result.pairs_occurring),
            str(result.llm_calls_pairs),
            f"{result.llm_calls_pairs / result.pairs_possible:.2f}",
            f"{seconds:.1f}",
            f"{result.accuracy('FuDD (paper rule)'):.3f}",
        )
    Console().print(table)
    cold, warm = runs[0][2], runs[1][2]
    print(f"warm / cold wall time: {warm / cold:.3f}")


if __name__ == "__main__":
    main()
