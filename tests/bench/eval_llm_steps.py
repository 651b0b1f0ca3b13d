"""Every LLM step of clipflows against known answers, one column per model, in one run.

Steps (each from an empty cache, so times are real; wall time and generated tokens per step):
- speed: plain generation against schema-enforced generation, tokens/s, same prompt and model;
- set_difference: LLM proposals only (no vocabulary candidates), strict judge, 11 world pairs,
  single shot and with the refiner, against the caption words whose counts differ most;
- set_difference_paraphrased: the same, single shot, with captions that say each value in
  several words ("crimson", "scarlet", "red"), so no single word's count gives the difference;
- fudd: the 24 world classes: one template, the 80-template ensemble, LLM-written differential
  descriptions (paper rule and fusion) and oracle descriptions from the world's ground truth;
- music: of the 28 packaged tracks, how many fall back to their tags, and precision@5 by mood
  of description text against tags alone;
- assistant: the request suite (right tool with valid arguments; out-of-bounds requests refused);
- judge: agreement of the LLM judge with the strict keyword judge.

Run: ``python tests/bench/eval_llm_steps.py --models smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b``
(about 70 minutes for all three on 2 busy cores, the 1.5B half of it; ``--steps`` picks some).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from clipflows.agents.llm_registry import LLMFileError, llm_entry, locate_llm
from clipflows.components.settings import Settings, default_cache_dir
from clipflows.components.world.model import ensure_world_clip
from clipflows.flows.runtime.temporary_server import tie_temporary_server
from clipflows.flows.runtime.worker_models import worker_llm

STEPS = (
    "speed",
    "set_difference",
    "set_difference_paraphrased",
    "fudd",
    "music",
    "assistant",
    "judge",
)
MODELS = ("smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")


@dataclass
class StepResult:
    """One step's figures for one model, in print order."""

    figures: dict[str, str]
    wall_s: float = 0.0
    calls: int = 0
    tokens: int = 0
    examples: list[str] = field(default_factory=list)


def generated_tokens(settings: Settings) -> int:
    """Tokens the resident embedded model for ``settings`` has generated (0 for other backends)."""
    return getattr(worker_llm(settings).chat_model, "generated_tokens", 0)


# ---- speed -------------------------------------------------------------------------------------


class Features(BaseModel):
    """A bounded answer, as every clipflows schema is."""

    features: list[Annotated[str, StringConstraints(max_length=80)]] = Field(max_length=6)


SPEED_PROMPT = (
    "List six visual features that tell a hawk from an eagle in photographs, one short "
    "sentence each."
)


def speed_step(settings: Settings) -> StepResult:
    """Tokens/s of plain and of schema-enforced generation (the fast greedy grammar sampler),
    same prompt, no cache; the first call also loads the model and is not timed."""
    from clipflows.agents.llm import response_format_for

    chat = worker_llm(settings).chat_model
    messages = [("human", SPEED_PROMPT)]
    chat.invoke([("human", "Say hello.")], max_tokens=4)  # load the model
    rates = {}
    for name, extra in (
        ("plain", {}),
        ("schema", {"response_format": response_format_for(Features, "json_object")}),
    ):
        before, start = chat.generated_tokens, time.perf_counter()
        answer = chat.invoke(messages, max_tokens=160, **extra).text
        tokens = chat.generated_tokens - before
        rates[name] = (tokens / (time.perf_counter() - start), tokens, answer)
    plain, schema = rates["plain"][0], rates["schema"][0]
    return StepResult(
        figures={
            "plain tok/s": f"{plain:.1f}",
            "schema tok/s": f"{schema:.1f}",
            "schema / plain": f"{schema / plain:.2f}x",
        },
        tokens=rates["plain"][1] + rates["schema"][1],
        examples=[f"schema answer: {rates['schema'][2][:160]}"],
    )


# ---- set difference ----------------------------------------------------------------------------


def set_difference_step(settings: Settings, images: int, paraphrased: bool = False) -> StepResult:
    """Strict Acc@1 / Acc@5 of LLM proposals alone over the 11 world pairs, with and without
    the refiner (single shot only with ``paraphrased`` captions), and of the most uneven caption
    words alone: the baseline the LLM must beat, since its prompt shows their counts."""
    from clipflows.agents.proposer import uneven_words
    from clipflows.agents.refiner import RefinerConfig
    from clipflows.components.set_difference.evaluation import evaluate
    from clipflows.components.set_difference.ranking import Hypothesis
    from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, world_judge, write_pair
    from clipflows.components.world.vocabulary import WORLD_VOCABULARY, paraphrased_vocabulary
    from clipflows.flows.set_difference import set_difference

    vocabulary = paraphrased_vocabulary() if paraphrased else WORLD_VOCABULARY
    variants = [("single", None)] + ([] if paraphrased else [("refined", RefinerConfig(rounds=2))])
    totals = {"single": [0.0, 0.0], "refined": [0.0, 0.0], "words": [0.0, 0.0]}
    calls, misses, hits = 0, [], []
    with tempfile.TemporaryDirectory() as tmp:
        for pair in WORLD_SET_PAIRS:
            set_a, set_b = write_pair(pair, Path(tmp), count=images)
            judge = world_judge(pair)
            for variant, refiner in variants:
                result = set_difference(
                    str(set_a),
                    str(set_b),
                    settings=settings,
                    vocabulary=vocabulary,
                    refiner=refiner,
                    vocabulary_candidates=False,
                )
                evaluation = evaluate(result.ranking, judge)
                totals[variant][0] += evaluation.acc_at_1
                totals[variant][1] += evaluation.acc_at_5
                calls += result.llm_calls
                if variant == "single":  # the baseline the LLM must beat: the counts it is shown
                    words = uneven_words(result.captions_a, result.captions_b, top=5)
                    alone = [
                        Hypothesis(text=w.text, direction="A" if w.in_a > w.in_b else "B")
                        for w in words
                    ]
                    baseline = evaluate(alone, judge)
                    totals["words"][0] += baseline.acc_at_1
                    totals["words"][1] += baseline.acc_at_5
                if variant == "single":  # every miss in full, the first hits briefly
                    top = result.ranking[:5] if evaluation.acc_at_5 < 1 else result.ranking[:1]
                    said = ", ".join(f"'{h.text}' ({h.direction})" for h in top)
                    (hits if evaluation.acc_at_5 == 1 else misses).append(
                        f"{pair.name} ({pair.truth}): {said} -> @1 {evaluation.acc_at_1:g}, "
                        f"@5 {evaluation.acc_at_5:g}"
                    )
    n = len(WORLD_SET_PAIRS)
    names = {
        "single": f"single shot Acc@1 / @5 ({n} pairs)",
        "refined": "refiner (2 rounds) Acc@1 / @5",
        "words": "no LLM: the most uneven words",
    }
    figures = {
        names[key]: f"{totals[key][0] / n:.2f} / {totals[key][1] / n:.2f}"
        for key in [*(variant for variant, _ in variants), "words"]
    }
    return StepResult(
        figures=figures,
        calls=calls,
        examples=misses + hits[:2],
    )


# ---- FuDD --------------------------------------------------------------------------------------


def fudd_step(settings: Settings, k: int) -> StepResult:
    """The 24-class world task: LLM descriptions against templates and oracle descriptions."""
    from clipflows.flows.classify import ClassifyConfig, classify

    llm = classify("world", settings=settings, config=ClassifyConfig(k=k, generic=False))
    oracle = classify(
        "world",
        settings=settings,
        config=ClassifyConfig(k=k, descriptions="world", generic=False),
    )
    pct = "{:.1%}".format
    book_example = next(
        (p.fudd for p in llm.predictions if p.fudd == p.truth and p.first_pass != p.truth), None
    )
    return StepResult(
        figures={
            f"pairs asked (k = {k})": f"{llm.pairs_occurring} of {llm.pairs_possible}",
            "one template": pct(llm.accuracy("one template")),
            "80-template ensemble": pct(llm.accuracy("80-template ensemble")),
            "LLM descriptions (paper rule)": pct(llm.accuracy("FuDD (paper rule)")),
            "LLM descriptions + fusion": pct(llm.accuracy("FuDD + fusion")),
            "oracle descriptions (paper rule)": pct(oracle.accuracy("FuDD (paper rule)")),
            "pairs failed (template fallback)": str(len(llm.description_failures)),
        },
        calls=llm.llm_calls,
        examples=[f"an image the descriptions fixed: {book_example}"] if book_example else [],
    )


# ---- music -------------------------------------------------------------------------------------


def music_step(settings: Settings) -> StepResult:
    """Descriptions of the 28 packaged tracks: fallbacks to tags, and mood precision@5."""
    from clipflows.components.music.evaluation import mood_precision, tag_ceiling
    from clipflows.components.music.library import MusicLibrary
    from clipflows.components.music.tracks import packaged_tracks_dir
    from clipflows.components.sentence import SentenceEncoder
    from clipflows.flows.music_library import describe_library

    index = settings.cache_dir / "eval-music-library"
    result = describe_library(str(packaged_tracks_dir()), str(index), settings=settings)
    library = MusicLibrary.load(index, SentenceEncoder(settings))
    tags, described = (mood_precision(library, f) for f in ("tags", "description"))
    # What the tags hold at all: descriptions are written from them, so mood retrieval is
    # bounded by how well the tags predict mood; the acoustic/electronic style, for contrast.
    mood = tag_ceiling(library, [t.mood or "none" for t in library.tracks])
    styles = [
        "electronic" if "electronic" in Path(t.path).name else "acoustic" for t in library.tracks
    ]
    style = tag_ceiling(library, styles)
    examples = [
        f"{Path(t.path).parent.name}/{Path(t.path).name}: {t.description}"
        for t in library.tracks[::9]
        if t.path not in result.description_failures
    ]
    return StepResult(
        figures={
            f"fall back to tags (of {result.tracks})": str(len(result.description_failures)),
            "P@5 descriptions / tags only": f"{described.precision:.2f} / {tags.precision:.2f} "
            f"(chance {tags.chance:.2f})",
            "tags predict mood / style, leave-one-out": f"{mood.accuracy:.0%} / "
            f"{style.accuracy:.0%} (majority {mood.majority:.0%} / {style.majority:.0%})",
        },
        calls=result.llm_calls,
        examples=examples[:3],
    )


# ---- assistant and judge -----------------------------------------------------------------------


def assistant_step(settings: Settings) -> StepResult:
    """The assistant's request suite (agents/data/assistant_suite.json, flows/assistant_eval.py)."""
    from clipflows.flows.assistant_eval import run_suite

    run = run_suite(settings, llm=worker_llm(settings))

    def shown(case) -> str:
        return (
            f"{case.request!r} -> {case.plan.model_dump_json() if case.plan else 'no valid plan'}"
        )

    misses = [f"MISS {shown(c)}" for c in run.cases if not c.valid_arguments]
    examples = misses + [shown(c) for c in run.cases[::8] if c.valid_arguments][:3]
    return StepResult(
        figures={
            f"right tool ({len(run.cases)} requests)": f"{run.right_tool:.0%}",
            "right tool, valid arguments": f"{run.valid_arguments:.0%}",
            "  the same before paths are grounded": f"{run.ungrounded_valid_arguments:.0%}",
            "declines and out-of-bounds held": f"{run.refusals_held} of {run.refusals}",
            "out-of-bounds refused": f"{run.out_of_bounds_held} of {run.out_of_bounds}",
        },
        calls=run.llm_calls,
        examples=examples,
    )


def judge_step(settings: Settings) -> StepResult:
    """The LLM judge against the strict keyword judge (agents/judge_eval.py)."""
    from clipflows.agents.judge_eval import evaluate_judge

    scores = evaluate_judge(settings, llm=worker_llm(settings))

    def shown(j) -> str:
        return (
            f"{j.case.hypothesis!r} for {j.case.truth!r} ({j.case.direction}): {j.score} "
            f"(strict {j.case.expected}; {j.reason})"
        )

    misses = [f"MISS {shown(j)}" for j in scores.judged if j.score != j.case.expected]
    examples = misses + [shown(j) for j in scores.judged[::13] if j.score == j.case.expected][:3]
    return StepResult(
        figures={
            f"agreement ({scores.cases} cases)": f"{scores.agreement:.0%}",
            "full credit or not, agreement": f"{scores.full_credit_agreement:.0%}",
            "no valid verdict": str(scores.invalid),
        },
        calls=scores.llm_calls,
        examples=examples,
    )


# ---- the run -----------------------------------------------------------------------------------


def run_step(step: str, settings: Settings, args: argparse.Namespace) -> StepResult:
    """One step, timed, with the tokens the model generated during it."""
    steps: dict[str, Callable[[], StepResult]] = {
        "speed": lambda: speed_step(settings),
        "set_difference": lambda: set_difference_step(settings, args.images),
        "set_difference_paraphrased": lambda: set_difference_step(
            settings, args.images, paraphrased=True
        ),
        "fudd": lambda: fudd_step(settings, args.k),
        "music": lambda: music_step(settings),
        "assistant": lambda: assistant_step(settings),
        "judge": lambda: judge_step(settings),
    }
    before, start = generated_tokens(settings), time.perf_counter()
    try:
        result = steps[step]()
    except Exception as error:  # one failing step must not lose the others' figures
        result = StepResult(figures={"error": f"{type(error).__name__}: {error}"[:200]})
    result.wall_s = time.perf_counter() - start
    result.tokens = result.tokens or generated_tokens(settings) - before
    return result


def print_table(results: dict[str, dict[str, StepResult]], steps: list[str]) -> None:
    """Steps down, models across; each step closes with wall time, calls and tokens."""
    models = list(results)
    width = max([len(f) for m in models for s in steps for f in results[m][s].figures] + [24])
    column = max(len(step) for step in steps)
    print(f"\n| {'step':{column}} | {'figure':{width}} | " + " | ".join(models) + " |")
    print(
        f"|{'-' * (column + 2)}|{'-' * (width + 2)}|"
        + "|".join("-" * (len(m) + 2) for m in models)
        + "|"
    )
    for step in steps:
        names = list(dict.fromkeys(f for m in models for f in results[m][step].figures))
        for name in names:
            cells = [results[m][step].figures.get(name, "-") for m in models]
            print(f"| {step:{column}} | {name:{width}} | " + " | ".join(cells) + " |")
        cells = []
        for m in models:
            r = results[m][step]
            rate = f", {r.tokens / r.wall_s:.0f} tok/s" if r.tokens and r.wall_s else ""
            cells.append(f"{r.wall_s:.0f} s, {r.calls} calls, {r.tokens} tok{rate}")
        print(
            f"| {step:{column}} | {'wall, LLM calls, tokens':{width}} | " + " | ".join(cells) + " |"
        )
    for m in models:
        print(f"\n{m}:")
        for step in steps:
            for example in results[m][step].examples:
                print(f"  [{step}] {example}")


def main() -> None:
    tie_temporary_server()  # a killed run leaves no temporary Prefect server behind
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help="registered LLM names")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"some of {','.join(STEPS)}")
    parser.add_argument("--k", type=int, default=4, help="FuDD ambiguity-set size")
    parser.add_argument("--images", type=int, default=40, help="images per world set")
    parser.add_argument(
        "--cache-dir", type=Path, help="reuse this cache (default: a new one, so times are real)"
    )
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    try:  # every model present before the first step runs, or one message naming what to fetch
        entries = [llm_entry(name) for name in args.models.split(",")]
        for entry in entries:
            locate_llm(entry, Settings().llm.models_dir)
    except LLMFileError as error:
        parser.error(str(error))
    models = [entry.name for entry in entries]
    steps = [s for s in args.steps.split(",") if s]
    unknown = set(steps) - set(STEPS)
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}; choose from {', '.join(STEPS)}")
    needs_clip = {"set_difference", "set_difference_paraphrased", "fudd"} & set(steps)
    spec = f"local-dir:{ensure_world_clip(default_cache_dir())}" if needs_clip else "world"
    results: dict[str, dict[str, StepResult]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            cache = (args.cache_dir or Path(tmp)) / model
            settings = Settings(cache_dir=cache, clip=spec, llm={"model": model})
            results[model] = {}
            for step in steps:
                results[model][step] = run_step(step, settings, args)
                figures = ", ".join(f"{k}: {v}" for k, v in results[model][step].figures.items())
                print(f"[{model}] {step} ({results[model][step].wall_s:.0f} s): {figures}")
            print_table(results, steps)  # after each model, so a stopped run keeps its figures


if __name__ == "__main__":
    main()
