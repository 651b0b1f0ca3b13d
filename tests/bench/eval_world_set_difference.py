"""Set-difference accuracy on the world pairs (known true differences), two ways side by side.

- ``llm``: hypotheses from the configured LLM only (the embedded 135M model by default);
- ``pool``: only the true phrases among distractors (no LLM), which measures the ranker alone.
Both are scored by the strict judge (world_judge: full credit only for naming the true attribute
of the set a hypothesis favours, and nothing else). Run: ``python tests/bench/eval_world_set_difference.py --rounds 1``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from clipflows.agents.proposer import ProposerConfig
from clipflows.components.set_difference.evaluation import evaluate
from clipflows.components.settings import Settings, default_cache_dir
from clipflows.components.world.model import ensure_world_clip
from clipflows.components.world.set_pairs import (
    WORLD_SET_PAIRS,
    candidate_pool,
    world_judge,
    write_pair,
)
from clipflows.components.world.vocabulary import WORLD_VOCABULARY
from clipflows.flows.runtime.temporary_server import tie_temporary_server
from clipflows.flows.set_difference import set_difference


def main() -> None:
    tie_temporary_server()  # a killed run leaves no temporary Prefect server behind
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--images", type=int, default=40)
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    spec = f"local-dir:{ensure_world_clip(default_cache_dir())}"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(cache_dir=default_cache_dir(), clip=spec)
        proposer = ProposerConfig(rounds=args.rounds, sample_size=20)
        for pair in WORLD_SET_PAIRS:
            set_a, set_b = write_pair(pair, Path(tmp), count=args.images)
            judge = world_judge(pair)
            scores = {}
            for variant, extra in (("llm", None), ("pool", candidate_pool(pair))):
                result = set_difference(
                    str(set_a),
                    str(set_b),
                    settings=settings,
                    vocabulary=WORLD_VOCABULARY,
                    proposer=proposer,
                    extra_hypotheses=extra,
                    llm_proposals=variant == "llm",  # the pool is ranked alone
                    vocabulary_candidates=False,
                )
                evaluation = evaluate(result.ranking, judge)
                scores[variant] = (evaluation.acc_at_1, evaluation.acc_at_5, result.ranking[0])
            rows.append((pair, scores))
    print(f"{'pair':28} {'difficulty':10} {'llm @1':>6} {'llm @5':>6} {'pool @1':>7}  top (pool)")
    for pair, s in rows:
        top = s["pool"][2]
        print(
            f"{pair.name:28} {pair.difficulty:10} {s['llm'][0]:6.1f} {s['llm'][1]:6.1f} "
            f"{s['pool'][0]:7.1f}  {top.text} ({top.direction}, AUROC {top.auroc:.2f})"
        )
    for variant in ("llm", "pool"):
        acc1 = sum(s[variant][0] for _, s in rows) / len(rows)
        acc5 = sum(s[variant][1] for _, s in rows) / len(rows)
        print(f"{variant}: Acc@1 {acc1:.2f}, Acc@5 {acc5:.2f} over {len(rows)} pairs")


if __name__ == "__main__":
    main()
