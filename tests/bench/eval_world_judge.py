"""Does the LLM judge agree with the strict keyword judge? 66 hypothesis-truth cases from the
world pairs (true phrases, lexicon paraphrases, copied captions, wrong attributes, the opposite
direction, off-topic phrases), labelled by the strict judge, judged by each model named.

    python tests/bench/eval_world_judge.py [MODEL ...]   # default: the configured LLM
"""

from __future__ import annotations

import argparse
import json

from clipflows.agents.judge_eval import evaluate_judge
from clipflows.components.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=[None])
    parser.add_argument("--show", action="store_true", help="print every disagreement")
    args = parser.parse_args()
    base = load_settings()
    print(f"{'model':32} {'agree':>6} {'full':>6} {'invalid':>7} {'wall s':>7} {'calls':>5} cases")
    for model in args.models:
        llm = base.llm.model_copy(update={"model": model}) if model else base.llm
        result = evaluate_judge(base.model_copy(update={"llm": llm}))
        print(
            f"{result.model:32} {result.agreement:6.1%} {result.full_credit_agreement:6.1%} "
            f"{result.invalid:7d} {result.wall_seconds:7.1f} {result.llm_calls:5d} {result.cases}"
        )
        kinds = dict.fromkeys(j.case.kind for j in result.judged)
        by_kind = {
            k: [j.score == j.case.expected for j in result.judged if j.case.kind == k]
            for k in kinds
        }
        print("    by kind: " + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in by_kind.items()))
        for j in result.judged:
            if args.show and j.score != j.case.expected:
                row = [j.case.kind, j.case.hypothesis, j.case.direction, j.case.truth]
                print("   ", json.dumps([*row, j.case.expected, j.score, j.reason]))


if __name__ == "__main__":
    main()
