"""The assistant's planner on requests in new wording (issue 25.4), dev and test side by side.

Suites (agents/data/, flows/assistant_eval.py): "dev" is where the planner's prompt, schema and
examples were chosen; "test" was written blind to them (by a helper that saw only the tools'
descriptions) and is read only to report; "suite" is the original request suite. Requests are
phrased by situation, name the folder asked about before or after its reference, and include
look-alike work no tool does.

Rows: the keyword-and-path planner (no LLM, agents/keyword_planner.py); the LLM's plan call
alone; the LLM's own plans (the plan call, then its checks a step at a time, agents/plan_check.py);
the same plans after path grounding (a rule, agents/plan_paths.py). Columns: valid plans (right
tools, the user's paths in the right roles, the context's words), right tools, declines held,
and steps nobody asked for. Greedy decoding: one run is the figure, there is no seed spread.

Run: ``python tests/bench/eval_assistant_wording.py [--split dev|test|both|suite]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from clipflows.agents.keyword_planner import keyword_plan
from clipflows.agents.llm import create_llm
from clipflows.agents.planner import Plan, check_plan, ground_plan
from clipflows.components.settings import LLMSettings, Settings
from clipflows.flows.assistant_eval import SuiteScore, load_suite, own_plans, score_plans


def row(name: str, score: SuiteScore) -> str:
    return (
        f"  {name:<28} valid {score.valid_arguments:6.1%}  tool {score.right_tool:6.1%}  "
        f"declines held {score.refusals_held}/{score.refusals}  extra steps {score.extra_steps}"
    )


def shown(plan: Plan | None) -> str:
    if plan is None:
        return "no valid plan"
    return "; ".join(
        ", ".join(f"{k}={v!r}" for k, v in s.model_dump().items() if k != "asked" and v)
        for s in plan.steps
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "both", "suite"), default="dev")
    parser.add_argument("--model", default=None, help="A registered LLM (default: the default).")
    parser.add_argument("--threads", type=int, help="LLM threads (default: the idle CPUs).")
    parser.add_argument("--cache-dir", type=Path, help="Keep LLM answers here between runs.")
    parser.add_argument("--show", type=int, default=3, help="Plans printed per split.")
    args = parser.parse_args(argv)
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            cache_dir=args.cache_dir or Path(tmp),
            llm=LLMSettings(model=args.model, threads=args.threads),
        )
        llm = create_llm(settings)
        for split in splits:
            suite = load_suite(packaged=split)
            guard = suite.guardrails()
            start, calls = time.perf_counter(), llm.calls
            alone = own_plans(llm, suite, check=False)
            own = [  # the same plans, then the LLM's checks (own_plans' default)
                p and check_plan(llm, c.request, p) for p, c in zip(alone, suite.cases, strict=True)
            ]
            grounded = [
                p and ground_plan(p, c.request) for p, c in zip(own, suite.cases, strict=True)
            ]
            keywords = score_plans(
                suite.cases, [keyword_plan(c.request) for c in suite.cases], guard
            )
            llm_own = score_plans(suite.cases, own, guard)
            print(f"== {split}: {len(suite.cases)} requests, {llm.identity}")
            print(row("keywords and paths (no LLM)", keywords))
            print(row("LLM's plan call alone", score_plans(suite.cases, alone, guard)))
            print(row("LLM's own plans (+ checks)", llm_own))
            print(row("LLM + path grounding (rule)", score_plans(suite.cases, grounded, guard)))
            print(
                f"  margin of the LLM's own plans: {llm_own.valid_arguments - keywords.valid_arguments:+.1%}"
            )
            print(f"  {llm.calls - calls} LLM calls, {time.perf_counter() - start:.0f} s")
            for case, plan in list(zip(suite.cases, own, strict=True))[: args.show]:
                print(f"  {case.request!r}\n    -> {shown(plan)}")
            for result in llm_own.cases:
                if not result.valid_arguments:
                    print(f"  missed: {result.request[:70]!r} -> {shown(result.plan)}")


if __name__ == "__main__":
    main()
