"""LLM throughput on this machine (issue 26): the same workloads through two thread settings.

Workloads, each from an empty LLM-answer cache, real prompts of each step:
- fudd: differential descriptions of world class pairs (same-colour pairs, the ones k = 4 asks);
- judge: hypothesis parses for people-labelled VisDiffBench hypotheses (shared/data/judge_labels);
- proposer: one round (lists and kinds) for each of the 11 packaged world pairs, on the captions
  the world wrote;
- assistant: a plan for every request of the packaged suite.
Paths, each lever added to the one before: "half" is the embedded model as it was (threads =
half the CPUs, the judge's hypothesis first in its prompt); "idle" takes every CPU other
processes leave idle when the model loads (agents/embedded.py: default_threads); "prefix" is
today's default: also the judge's and FuDD's fixed instructions first and the item (hypothesis,
class pair) last, so llama.cpp reuses the evaluated prefix from the call before; "own-sampler" is "prefix" with llama.cpp's
own grammar sampler instead of clipflows' (agents/llama_sampling.py); "server" (with ``--server
URL``) sends "prefix"'s calls, ``--server-parallel`` at a time, to a llama.cpp server already
started with that many slots and continuous batching, which decodes them together (through the
openai-compatible backend; llama.cpp's own timings are not read there). Per workload and path: calls per minute, and
where the time went by llama.cpp's own counters (prompt tokens evaluated and their seconds,
tokens generated and theirs, the rest); the load average at start and end; whether the paths
with the same prompts gave the same answers (greedy decoding: they must). The changed prompts
are scored on their dev splits by eval_judge_people.py and eval_fudd_naming.py.

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from clipflows.agents.differential_describer import (
    MAX_ATTRIBUTES,
    PAIR_EXAMPLE,
    PairDifferences,
    describe_pair,
)
from clipflows.agents.differential_describer import SYSTEM as FUDD_SYSTEM
from clipflows.agents.judge import SYSTEM as JUDGE_SYSTEM
from clipflows.agents.judge import Parse, parse_hypothesis
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
# The judge's and FuDD's prompts as they were before issue 26 (the item before the fixed
# instructions), kept to measure the change.
JUDGE_PROMPT_AS_IT_WAS = (
    'Description of some images: "{hypothesis}"\n\n'
    "thing: the main thing the description shows, in its own words, without its details.\n"
    "details: each other thing it says, in its own words: a colour, a number, a place or "
    "background, the weather or time of day, another object, an action. [] when there are none.\n"
    'For example, "two brown dogs playing with a ball in a park" gives thing "dogs" and details '
    '["two", "brown", "playing with a ball", "in a park"].'
)
FUDD_PROMPT_AS_IT_WAS = (
    PAIR_EXAMPLE + "\nDataset: {context}.\nClass 1: {first}\nClass 2: {second}\n"
    "Give up to {n} attributes on which pictures of them differ, each described in plain English "
    "words for what the picture shows (its colour, shape, size, parts), not by the class names."
)
# path -> (threads: None for default_threads, the prompts as they were, the fast sampler)
PATHS = {
    "half": ("half", True, True),
    "idle": (None, True, True),
    "prefix": (None, False, True),
    "own-sampler": (None, False, False),
}


def describe_as_it_was(llm: LLM, first: str, second: str) -> PairDifferences:
    """FuDD's pair descriptions with the earlier prompt, asked the way describe_pair asks."""
    prompt = FUDD_PROMPT_AS_IT_WAS.format(
        context=WORLD_CONTEXT, first=first, second=second, n=MAX_ATTRIBUTES
    )
    return llm.ask_structured([("system", FUDD_SYSTEM), ("human", prompt)], PairDifferences)


def parse_as_it_was(llm: LLM, hypothesis: str) -> Parse:
    """The judge's parse with its earlier prompt, asked the way parse_hypothesis asks."""
    prompt = JUDGE_PROMPT_AS_IT_WAS.format(hypothesis=hypothesis)
    return llm.ask_structured([("system", JUDGE_SYSTEM), ("human", prompt)], Parse)


def workloads(scale: float, folder: Path, as_they_were: bool) -> dict[str, list[Call]]:
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
            lambda llm, a=a, b=b: (
                describe_as_it_was(llm, a, b)
                if as_they_were
                else describe_pair(llm, WORLD_CONTEXT, a, b)
            )
            for a, b in first(same_colour, 36)
        ],
        "judge": [
            lambda llm, h=h: (parse_as_it_was if as_they_were else parse_hypothesis)(llm, h)
            for h in first(hypotheses, 60)
        ],
        "proposer": [lambda llm, r=r: ask_proposal(llm, r) for r in first(requests, len(requests))],
        "assistant": [lambda llm, q=q: propose_plan(llm, q) for q in first(suite, len(suite))],
    }


def run(llm: LLM, calls: list[Call], parallel: int = 1) -> tuple[float, list[str]]:
    """Wall seconds for ``calls``, ``parallel`` at a time, and their answers in order (a
    failure's reason stands for its answer)."""

    def answer(call: Call) -> str:
        try:
            return repr(call(llm))
        except LLMOutputError as error:
            return f"failed: {error.reason}"

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        answers = list(pool.map(answer, calls))
    return time.perf_counter() - start, answers


def run_on_server(args: argparse.Namespace, folder: Path, answers: dict) -> None:
    """The "server" path: today's prompts through a running llama.cpp server's slots."""
    settings = Settings(
        cache_dir=folder / "server",
        llm=LLMSettings(
            backend="openai-compatible",
            base_url=args.server,
            model=args.model or "qwen2.5-coder-1.5b",
            structured_output="json_object",  # llama.cpp's flavour of a schema
            timeout_s=600,
        ),
    )
    llm, work = create_llm(settings), workloads(args.scale, folder / "world", False)
    llm.ask_text([("human", "Say OK.")])
    answers["server"] = {}
    for name in args.workloads.split(","):
        calls = llm.calls
        wall, answers["server"][name] = run(llm, work[name], args.server_parallel)
        made = llm.calls - calls
        print(
            f"server {name:<10} {made:4d} calls {wall:7.1f} s  {60 * made / wall:6.1f} "
            f"calls/min  ({args.server_parallel} at a time)",
            flush=True,
        )


def _rate(tokens: int, seconds: float) -> str:
    return f"{tokens / seconds:6.1f}" if seconds > 0 else "     -"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Share of each workload run.")
    parser.add_argument("--paths", default="half,idle,prefix")
    parser.add_argument("--workloads", default="fudd,judge,proposer,assistant")
    parser.add_argument("--model", default=None, help="A registered LLM (default: the default).")
    parser.add_argument("--server", help="A llama.cpp server's /v1 URL: adds the 'server' path.")
    parser.add_argument("--server-parallel", type=int, default=4, help="Calls sent at a time.")
    args = parser.parse_args(argv)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({cpus} CPUs)")
    answers: dict[str, dict[str, list[str]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.paths.split(",") if args.paths else []:
            threads, as_they_were, fast_grammar = PATHS[path]
            work = workloads(args.scale, Path(tmp) / "world", as_they_were)
            settings = Settings(
                cache_dir=Path(tmp) / path,  # an empty answer cache for each path
                llm=LLMSettings(
                    model=args.model,
                    threads=max(1, (cpus or 2) // 2) if threads == "half" else threads,
                ),
            )
            llm = create_llm(settings)
            chat = llm.chat_model
            chat.fast_grammar = fast_grammar
            llm.ask_text([("human", "Say OK.")])  # load the model outside the timings
            answers[path] = {}
            for name in args.workloads.split(","):
                before = chat.time_split
                wall, answers[path][name] = run(llm, work[name])
                spent = chat.time_split - before
                other = spent.busy_seconds - spent.prompt_seconds - spent.generation_seconds
                print(
                    f"{path:>5} {name:<10} {spent.calls:4d} calls {wall:7.1f} s  "
                    f"{60 * spent.calls / wall:6.1f} calls/min  (threads {chat.threads})\n"
                    f"{'':17}prompt: {spent.prompt_tokens:6d} tokens evaluated in "
                    f"{spent.prompt_seconds:6.1f} s ({_rate(spent.prompt_tokens, spent.prompt_seconds)}"
                    f" tok/s);  generation: {spent.generated_tokens:5d} tokens in "
                    f"{spent.generation_seconds:6.1f} s ({_rate(spent.generated_tokens, spent.generation_seconds)}"
                    f" tok/s);  sampling, grammar and the rest: {other:5.1f} s",
                    flush=True,
                )
        if args.server:
            run_on_server(args, Path(tmp), answers)
    for name in args.workloads.split(","):
        groups: dict[bool, list[str]] = {}
        for path in answers:
            as_they_were = PATHS.get(path, (None, False, True))[1]  # the server: today's
            groups.setdefault(name not in ("judge", "fudd") or as_they_were, []).append(path)
        for same_prompt in groups.values():
            same = all(answers[p][name] == answers[same_prompt[0]][name] for p in same_prompt)
            print(f"{name}: the same answers on {', '.join(same_prompt)}: {same}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
