"""LLM throughput on this machine (issue 26): the same workloads through two thread settings.

Workloads, each from an empty LLM-answer cache, real prompts of each step:
- fudd: differential descriptions of world class pairs (same-colour pairs, the ones k = 4 asks);
- judge: hypothesis parses for people-labelled VisDiffBench hypotheses (shared/data/judge_labels);
- proposer: one round (lists and kinds) for each of the 11 packaged world pairs, on the captions
  the world wrote;
- assistant: a plan for every request of the packaged suite.
Paths: "half" is the embedded model as it was (threads = half the CPUs), "idle" is today's
default (agents/embedded.py: default_threads, every CPU other processes leave idle when the
model loads). Per workload and path: calls per minute, prompt and generated tokens per second,
wall time; the load average at start and end; whether both paths gave the same answers (greedy
decoding: they must).

Measured and dropped: llama.cpp's RAM cache of evaluated prompts (``Llama.set_cache``), which
saves and restores the whole context state each call: 0.81-1.02x the calls per minute of
"idle", and the proposer's answers changed. llama-cpp-python already reuses the prompt prefix a
call shares with the one before it, which is why the assistant's prompt runs at ~3x the tokens
per second of the others.

Run: ``python tests/bench/bench_llm_throughput.py [--scale 0.5] [--paths half,idle]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from clipflows.agents.differential_describer import describe_pair
from clipflows.agents.judge import parse_hypothesis
from clipflows.agents.judge_people import read_labels
from clipflows.agents.llm import LLM, LLMOutputError, create_llm
from clipflows.agents.planner import propose_plan
from clipflows.agents.proposer import ProposerConfig, ask_proposal, proposal_requests
from clipflows.components.settings import LLMSettings, Settings
from clipflows.components.world.class_task import WORLD_CONTEXT, world_class_names
from clipflows.components.world.scenes import read_dataset
from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, write_pair
from clipflows.flows.assistant_eval import load_suite

LABELS = Path(__file__).resolve().parents[2].parent / "shared/data/judge_labels/dev.jsonl"
Call = Callable[[LLM], object]


def workloads(scale: float, folder: Path) -> dict[str, list[Call]]:
    """Each workload's calls, in a fixed order; ``scale`` shortens every one alike."""

    def first(items: list, count: int) -> list:
        return items[: max(1, round(count * scale))]

    names = world_class_names()
    same_colour = [
        (a, b) for i, a in enumerate(names) for b in names[i + 1 :] if a.split()[0] == b.split()[0]
    ]
    hypotheses = list(dict.fromkeys(label.hypothesis for label in read_labels(LABELS)))
    requests = []
    for pair in WORLD_SET_PAIRS:
        set_a, set_b = write_pair(pair, folder, count=20)
        captions = [[r.caption for r in read_dataset(s.parent)] for s in (set_a, set_b)]
        requests += proposal_requests(*captions, ProposerConfig(rounds=1))
    suite = [case.request for case in load_suite().cases]
    return {
        "fudd": [
            lambda llm, a=a, b=b: describe_pair(llm, WORLD_CONTEXT, a, b)
            for a, b in first(same_colour, 36)
        ],
        "judge": [lambda llm, h=h: parse_hypothesis(llm, h) for h in first(hypotheses, 60)],
        "proposer": [lambda llm, r=r: ask_proposal(llm, r) for r in first(requests, len(requests))],
        "assistant": [lambda llm, q=q: propose_plan(llm, q) for q in first(suite, len(suite))],
    }


def run(llm: LLM, calls: list[Call]) -> tuple[float, list[str]]:
    """Wall seconds for ``calls`` and their answers (a failure's reason stands for its answer)."""
    answers, start = [], time.perf_counter()
    for call in calls:
        try:
            answers.append(repr(call(llm)))
        except LLMOutputError as error:
            answers.append(f"failed: {error.reason}")
    return time.perf_counter() - start, answers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Share of each workload run.")
    parser.add_argument("--paths", default="half,idle")
    parser.add_argument("--workloads", default="fudd,judge,proposer,assistant")
    parser.add_argument("--model", default=None, help="A registered LLM (default: the default).")
    args = parser.parse_args(argv)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = {"half": max(1, (cpus or 2) // 2), "idle": None}
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({cpus} CPUs)")
    answers: dict[str, dict[str, list[str]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = workloads(args.scale, Path(tmp) / "world")
        for path in args.paths.split(","):
            settings = Settings(
                cache_dir=Path(tmp) / path,  # an empty answer cache for each path
                llm=LLMSettings(model=args.model, threads=threads[path]),
            )
            llm = create_llm(settings)
            chat = llm.chat_model
            llm.ask_text([("human", "Say OK.")])  # load the model outside the timings
            answers[path] = {}
            for name in args.workloads.split(","):
                calls, tokens = llm.calls, chat.generated_tokens
                prompt = getattr(chat, "prompt_tokens", 0)
                wall, answers[path][name] = run(llm, work[name])
                made = llm.calls - calls
                generated = chat.generated_tokens - tokens
                prompt = getattr(chat, "prompt_tokens", 0) - prompt
                print(
                    f"{path:>5} {name:<10} {made:4d} calls {wall:7.1f} s  "
                    f"{60 * made / wall:6.1f} calls/min  prompt {prompt / wall:6.1f} tok/s  "
                    f"generated {generated / wall:5.1f} tok/s  (threads {chat.threads})",
                    flush=True,
                )
    paths = list(answers)
    for name in args.workloads.split(","):
        same = all(answers[p][name] == answers[paths[0]][name] for p in paths)
        print(f"{name}: the same answers on every path: {same}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
