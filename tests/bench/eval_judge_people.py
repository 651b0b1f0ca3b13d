"""The judge against people's labels of proposed differences (issue 25.2), tune and held pairs.

The labels (`../shared/data/judge_labels/dev.jsonl`, SOURCE.md there: AD-Diff's labelled
hypotheses, Apache-2.0) cover 14 VisDiffBench set pairs. They are split by pair
(`agents/judge_people.py`): thresholds and anything else fitted use the tune pairs; the held
pairs are only scored. The maintainers keep 26 more pairs as the real test.

Rows: the majority label (the floor), the sentence-embedding baseline fitted on the tune pairs
(all-MiniLM-L6-v2, no LLM), and with ``--models`` the LLM judge's own answers (agents/judge.py),
each as exact agreement with people on the file's natural mix of labels, and its margin over the
best no-LLM row.

Run: ``python tests/bench/eval_judge_people.py [--models qwen2.5-coder-1.5b] [--split held]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from clipflows.agents.judge_people import (
    agreement,
    embedding_features,
    fit_embedding_judge,
    llm_verdicts,
    majority_label,
    read_labels,
    split_pairs,
)
from clipflows.agents.llm import create_llm
from clipflows.components.sentence import SentenceEncoder
from clipflows.components.settings import LLMSettings, Settings

LABELS = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "judge_labels" / "dev.jsonl"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--models", default="", help="Comma-separated registered LLMs to judge.")
    parser.add_argument("--split", choices=("tune", "held", "both"), default="held")
    args = parser.parse_args()
    if not args.labels.is_file():
        raise SystemExit(f"No judge labels at {args.labels} (shared/data/judge_labels).")
    tune, held = split_pairs(read_labels(args.labels))
    splits = {"tune": tune, "held": held}
    print(
        f"{len(tune)} tune rows ({len({x.pair for x in tune})} pairs), {len(held)} held rows "
        f"({len({x.pair for x in held})} pairs: {sorted({x.pair for x in held})})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(cache_dir=Path(tmp))
        embed = SentenceEncoder(settings).encode_texts
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
        }
        best = max(row["held"] for row in rows.values())
        for name, row in rows.items():
            print(f"{name:60s} tune {row['tune']:.3f}  held {row['held']:.3f}")
        shown = ["tune", "held"] if args.split == "both" else [args.split]
        for model in filter(None, args.models.split(",")):
            llm = create_llm(Settings(cache_dir=Path(tmp), llm=LLMSettings(model=model)))
            for name in shown:
                start = time.perf_counter()
                verdicts = llm_verdicts(llm, splits[name])
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


if __name__ == "__main__":
    main()
