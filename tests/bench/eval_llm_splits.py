"""Every LLM step on cases nobody tuned on (issue 25), dev and test side by side, in one run.

Each section is its own benchmark, run here in turn with one LLM answer cache, and prints its
dev and test figures, its best no-LLM baseline and the LLM's margin over it (spreads over seeds
where a seed matters):
- judge: agreement with people's labels of VisDiffBench hypotheses (eval_judge_people.py);
- proposer: PartiPrompts category pairs as caption sets (eval_proposer_parti.py);
- assistant: requests in new wording (eval_assistant_wording.py);
- fudd: the world class task with shape words in dev and test languages (eval_fudd_naming.py).
Prompts, rules and thresholds are chosen on dev only; test is read only to report.

Run: ``python tests/bench/eval_llm_splits.py [--sections judge,proposer,assistant,fudd]
[--cache-dir DIR]`` (about 2 hours on 2 cores from an empty cache; the 1.5B default).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the sections are scripts beside this one

import eval_assistant_wording  # noqa: E402
import eval_fudd_naming  # noqa: E402
import eval_judge_people  # noqa: E402
import eval_proposer_parti  # noqa: E402

DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def sections(cache: list[str], model: str) -> dict[str, Callable[[], None]]:
    """Each section's benchmark with its dev and test splits, on ``model``."""
    return {
        "judge": lambda: eval_judge_people.main(["--models", model, "--split", "both", *cache]),
        "proposer": lambda: eval_proposer_parti.main(
            ["--model", model, "--split", "both", "--seeds", "3", *cache]
        ),
        "assistant": lambda: eval_assistant_wording.main(
            ["--model", model, "--split", "both", *cache]
        ),
        "fudd": lambda: eval_fudd_naming.main(
            ["--model", model, "--split", "both", "--seeds", "3", *cache]
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="judge,proposer,assistant,fudd")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="A registered LLM.")
    parser.add_argument("--cache-dir", type=Path, help="Keep LLM answers here between runs.")
    args = parser.parse_args()
    cache = ["--cache-dir", str(args.cache_dir)] if args.cache_dir else []
    runs = sections(cache, args.model)
    for name in args.sections.split(","):
        start = time.perf_counter()
        print(f"\n######## {name}", flush=True)
        runs[name]()
        print(f"######## {name}: {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
