"""Single-shot vs refining proposer on the world pairs, same LLM, side by side.

``single``: ``--single-rounds`` proposal rounds (both directions; 2 or 3 match the refining
variant's LLM budget). ``refine``: the same, then up to N rounds in
which the LLM sees the ranked hypotheses (AUROC, p-value) and captions of the images the best
ones miss. Reports Acc@1/@5 (keyword judge), the best AUROC, and the LLM calls each spent.
Run: ``python tests/bench/eval_world_refinement.py --refine-rounds 2``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from clipflows.agents.proposer import ProposerConfig
from clipflows.agents.refiner import RefinerConfig
from clipflows.components.set_difference.evaluation import evaluate
from clipflows.components.settings import Settings
from clipflows.components.world.model import ensure_world_clip
from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, world_judge, write_pair
from clipflows.components.world.vocabulary import WORLD_VOCABULARY
from clipflows.flows.runtime.temporary_server import tie_temporary_server
from clipflows.flows.set_difference import set_difference


def main() -> None:
    tie_temporary_server()  # a killed run leaves no temporary Prefect server behind
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refine-rounds", type=int, default=2)
    parser.add_argument(
        "--single-rounds", type=int, default=1, help="Proposal rounds of the single-shot variant."
    )
    parser.add_argument("--images", type=int, default=40)
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        # A fresh cache, so every LLM call of each variant is counted.
        settings = Settings(cache_dir=Path(tmp) / "cache")
        spec = f"local-dir:{ensure_world_clip(Path.home() / '.cache' / 'clipflows')}"
        settings = settings.model_copy(update={"clip": spec})
        variants = {
            "single": (ProposerConfig(rounds=args.single_rounds, sample_size=20), None),
            "refine": (
                ProposerConfig(rounds=1, sample_size=20),
                RefinerConfig(rounds=args.refine_rounds),
            ),
        }
        totals = {v: [0.0, 0.0, 0.0, 0] for v in variants}
        print(
            f"{'pair':28} "
            + " ".join(f"{v + ' @1':>9} {'AUROC':>6} {'calls':>5}" for v in variants)
        )
        for pair in WORLD_SET_PAIRS:
            set_a, set_b = write_pair(pair, Path(tmp) / "sets", count=args.images)
            cells = []
            for name, (proposer, refiner) in variants.items():
                variant_settings = settings.model_copy(
                    update={"cache_dir": Path(tmp) / f"cache-{name}"}
                )
                result = set_difference(
                    str(set_a),
                    str(set_b),
                    settings=variant_settings,
                    vocabulary=WORLD_VOCABULARY,
                    proposer=proposer,
                    refiner=refiner,
                    vocabulary_candidates=False,
                )
                evaluation = evaluate(result.ranking, world_judge(pair))
                best = max(s.auroc for s in result.ranking)
                total = totals[name]
                total[0] += evaluation.acc_at_1
                total[1] += evaluation.acc_at_5
                total[2] += best
                total[3] += result.llm_calls
                cells.append(f"{evaluation.acc_at_1:9.1f} {best:6.2f} {result.llm_calls:5d}")
            print(f"{pair.name:28} " + " ".join(cells))
    count = len(WORLD_SET_PAIRS)
    for name, (acc1, acc5, auroc, calls) in totals.items():
        print(
            f"{name}: Acc@1 {acc1 / count:.2f}, Acc@5 {acc5 / count:.2f}, mean best AUROC "
            f"{auroc / count:.3f}, LLM calls {calls} over {count} pairs"
        )


if __name__ == "__main__":
    main()
