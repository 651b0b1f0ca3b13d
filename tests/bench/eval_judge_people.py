"""The judge against people's labels of proposed differences (issue 25.2), tune and held pairs.

The labels (`../shared/data/judge_labels/dev.jsonl`, SOURCE.md there: AD-Diff's labelled
hypotheses, Apache-2.0) cover 14 VisDiffBench set pairs. They are split by pair
(`agents/judge_people.py`): prompts, rules and thresholds were chosen on the tune pairs; the
held pairs are only scored. The maintainers keep 26 more pairs as the real test.

Rows, each as exact agreement with people on the file's natural mix of labels: the majority
label (the floor); two no-LLM judges fitted on the tune pairs, sentence-embedding thresholds
and the judge's own rule reading each whole hypothesis as its thing; and with ``--models`` the
judge (agents/judge.py: the LLM parses, the rule scores the parse), with its margin over the
best no-LLM row. ``--fit`` searches the rule's two thresholds on the tune pairs' parses.

Run: ``python tests/bench/eval_judge_people.py [--models qwen2.5-coder-1.5b] [--split both]``
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import numpy as np

from clipflows.agents.judge import Embed, JudgeRule
from clipflows.agents.judge_people import (
    HumanLabel,
    agreement,
    embedding_features,
    fit_embedding_judge,
    llm_verdicts,
    majority_label,
    read_labels,
    rule_labels,
    split_pairs,
)
from clipflows.agents.llm import LLM, create_llm
from clipflows.components.sentence import SentenceEncoder
from clipflows.components.settings import LLMSettings, Settings

LABELS = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "judge_labels" / "dev.jsonl"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--models", default="", help="Comma-separated registered LLMs to judge.")
    parser.add_argument("--split", choices=("tune", "held", "both"), default="held")
    parser.add_argument("--fit", action="store_true", help="Search the rule's thresholds on tune.")
    parser.add_argument("--cache-dir", type=Path, help="Keep LLM answers here between runs.")
    args = parser.parse_args(argv)
    if not args.labels.is_file():
        raise SystemExit(f"No judge labels at {args.labels} (shared/data/judge_labels).")
    tune, held = split_pairs(read_labels(args.labels))
    splits = {"tune": tune, "held": held}
    print(
        f"{len(tune)} tune rows ({len({x.pair for x in tune})} pairs), {len(held)} held rows "
        f"({len({x.pair for x in held})} pairs: {sorted({x.pair for x in held})})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.cache_dir or Path(tmp)
        settings = Settings(cache_dir=cache_dir)
        embed = remembered(SentenceEncoder(settings).encode_texts)
        features = {name: embedding_features(rows, embed) for name, rows in splits.items()}
        fitted = fit_embedding_judge(features["tune"], tune)
        floor = majority_label(tune)
        rows = {
            f"always {floor} (majority of tune)": {
                name: agreement([floor] * len(r), r) for name, r in splits.items()
            },
            f"sentence embedding ({fitted.margin:.3f}, {fitted.full:.3f}), fitted on tune": {
                name: agreement(fitted.labels(features[name]), r) for name, r in splits.items()
            },
            "the judge's rule on each whole hypothesis (no LLM)": {
                name: agreement(rule_labels(r, embed), r) for name, r in splits.items()
            },
        }
        best = max(row["held"] for row in rows.values())
        for name, row in rows.items():
            print(f"{name:60s} tune {row['tune']:.3f}  held {row['held']:.3f}")
        shown = ["tune", "held"] if args.split == "both" else [args.split]
        for model in filter(None, args.models.split(",")):
            llm = create_llm(Settings(cache_dir=cache_dir, llm=LLMSettings(model=model)))
            if args.fit:
                print(f"rule thresholds on tune with {model}'s parses (best first):")
                for score, rule in fit_rule(llm, tune, embed)[:5]:
                    print(
                        f"  {score:.3f}  {rule.names_similarity:.2f}  {rule.context_similarity:.2f}"
                    )
            for name in shown:
                start = time.perf_counter()
                verdicts = llm_verdicts(llm, splits[name], embed)
                score = agreement([v.predicted for v in verdicts], splits[name])
                margin = f", margin over no-LLM {score - best:+.3f}" if name == "held" else ""
                print(
                    f"LLM judge {model} on {name}: {score:.3f}{margin} "
                    f"({len(verdicts)} rows, {time.perf_counter() - start:.0f} s, "
                    f"{sum(v.predicted is None for v in verdicts)} without a valid answer)"
                )
                for verdict in verdicts[:: max(1, len(verdicts) // 5)][:5]:
                    print(
                        f"  {verdict.label.hypothesis.strip()!r} for {verdict.label.pair!r}: "
                        f"people {verdict.label.manual_label}, judge {verdict.predicted} "
                        f"({verdict.reason})"
                    )


def remembered(embed: Embed) -> Embed:
    """``embed`` that encodes each text once: ``--fit`` reads the same parts and truths under
    196 pairs of thresholds."""
    vectors: dict[str, np.ndarray] = {}

    def lookup(texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in vectors]
        if new:
            vectors.update(zip(new, embed(new), strict=True))
        return np.stack([vectors[t] for t in texts])

    return lookup


def fit_rule(llm: LLM, tune: list[HumanLabel], embed: Embed) -> list[tuple[float, JudgeRule]]:
    """Every pair of thresholds on a 0.05 grid, scored on the tune pairs (answers are cached:
    the LLM is asked once per hypothesis)."""
    grid = [round(0.2 + 0.05 * i, 2) for i in range(14)]
    scored = []
    for names, context in itertools.product(grid, grid):
        rule = JudgeRule(names_similarity=names, context_similarity=context)
        scored.append(
            (agreement([v.predicted for v in llm_verdicts(llm, tune, embed, rule)], tune), rule)
        )
    return sorted(scored, key=lambda x: -x[0])


if __name__ == "__main__":
    main()
