"""The proposer on real language (issue 25.3): two PartiPrompts categories as caption sets.

PartiPrompts (`../shared/data/partiprompts/prompts.csv`, SOURCE.md there: descriptions of images
written by people, Apache-2.0) has 12 categories; 11 have enough descriptions for a caption set.
Each pair of categories is a set-difference task whose truth is the pair of names ("Vehicles vs
Food & Beverage"): no word count names it, the proposer has to abstract. The categories are
split in two, alternately in name order: the 15 pairs among the 6 dev categories are where the
prompt may change, the 10 pairs among the 5 test categories are only reported.

Each pair and seed samples captions (descriptions of 3 to 30 words), ranks every hypothesis by
a text analogue of CLIP ranking (the AUROC of the sentence embedding's cosine to each caption,
set A's against set B's) and judges the top five with the judge of agents/judge.py: Acc@1 and
Acc@5 as in VisDiff. Rows: the caption words whose share differs most (no LLM; what the
proposer's hint shows); the LLM's proposals alone (each round's counted caption kinds where
they tell the sets apart, else its lists, each set's kind and the counted kinds); every answer
of each round (``ProposerConfig.lists_with_kinds``, the proposer of stop 31); the one-sided
rule's row; with the count of known bad outputs: a phrase said of both sets, a caption copied
whole, the prompt's example.

Run: ``python tests/bench/eval_proposer_parti.py [--split dev|test|both] [--seeds 3]``
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from clipflows.agents.judge import judge
from clipflows.agents.llm import LLMOutputError, create_llm
from clipflows.agents.proposer import (
    EXAMPLE_ANSWER,
    KIND_EXAMPLE,
    ProposerConfig,
    ask_proposal,
    caption_kinds,
    deduplicate,
    proposal_requests,
)
from clipflows.components.sentence import SentenceEncoder
from clipflows.components.set_difference.evaluation import evaluate
from clipflows.components.set_difference.ranking import Hypothesis
from clipflows.components.settings import LLMSettings, Settings

PROMPTS = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "partiprompts" / "prompts.csv"
)
CAPTIONS_PER_SET = 24
WORDS = 8  # hypotheses of the no-LLM row, per direction


def read_categories(path: Path) -> dict[str, list[str]]:
    """Category -> its descriptions of 3 to 30 words (one-word prompts are not captions), for
    the categories with enough of them for a caption set (Abstract has 4)."""
    by_category: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if 3 <= len(row["prompt"].split()) <= 30:
                by_category.setdefault(row["category"], []).append(row["prompt"].strip())
    return {name: texts for name, texts in by_category.items() if len(texts) >= CAPTIONS_PER_SET}


def split_pairs(categories: list[str]) -> dict[str, list[tuple[str, str]]]:
    """dev: pairs among the categories in even places of name order; test: among the odd."""
    names = sorted(categories)
    return {"dev": list(combinations(names[0::2], 2)), "test": list(combinations(names[1::2], 2))}


def ranked(
    hypotheses: list[Hypothesis], vectors_a: np.ndarray, vectors_b: np.ndarray, embed: Callable
) -> list[Hypothesis]:
    """Hypotheses by the AUROC of their cosine to set A's caption embeddings against set B's,
    in their own direction (ties keep the proposer's order)."""
    if not hypotheses:
        return []
    texts = embed([h.text for h in hypotheses])
    scores_a, scores_b = vectors_a @ texts.T, vectors_b @ texts.T
    aurocs = []
    for i, hypothesis in enumerate(hypotheses):
        wins = (scores_a[:, i][:, None] > scores_b[:, i][None, :]).mean()
        aurocs.append(wins if hypothesis.direction == "A" else 1 - wins)
    order = sorted(range(len(hypotheses)), key=lambda i: -aurocs[i])
    return [hypotheses[i] for i in order]


def uneven_word_hypotheses(captions_a: list[str], captions_b: list[str]) -> list[Hypothesis]:
    """The no-LLM row: the words (stop words aside) whose share of captions differs most, each
    said of the set that uses it more."""
    vectorizer = CountVectorizer(binary=True, stop_words="english")
    present = vectorizer.fit_transform([*captions_a, *captions_b]).toarray()
    in_a = present[: len(captions_a)].mean(0)
    in_b = present[len(captions_a) :].mean(0)
    words = vectorizer.get_feature_names_out()
    found = []
    for direction, gap in (("A", in_a - in_b), ("B", in_b - in_a)):
        for i in np.argsort(-gap, kind="stable")[:WORDS]:
            if gap[i] > 0:
                found.append(Hypothesis(text=str(words[i]), direction=direction))
    return found


def bad_outputs(hypotheses: list[Hypothesis], captions: list[str]) -> dict[str, int]:
    """Known failures: one phrase for both sets, a caption copied whole, the prompt's example."""
    by_text: dict[str, set[str]] = {}
    for h in hypotheses:
        by_text.setdefault(h.text, set()).add(h.direction)
    lowered = {c.lower().strip(" .") for c in captions}
    answer = json.loads(EXAMPLE_ANSWER.removeprefix("Answer: ").splitlines()[0])
    example = {text for phrases in answer.values() for text in phrases}  # "dogs", "cats"
    example.add(KIND_EXAMPLE[1])  # and the kinds' example answer, or its caption (cut or not)

    def copies_example(text: str) -> bool:
        return text in example or (len(text.split()) >= 3 and KIND_EXAMPLE[0].startswith(text))

    return {
        "both sets": sum(len(d) == 2 for d in by_text.values()),
        "copied": sum(h.text in lowered for h in hypotheses),
        "example": sum(copies_example(h.text) for h in hypotheses),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=Path, default=PROMPTS)
    parser.add_argument("--split", choices=("dev", "test", "both"), default="dev")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--model", default=None, help="A registered LLM (default: the default).")
    parser.add_argument("--threads", type=int, help="LLM threads (default: the idle CPUs).")
    parser.add_argument("--cache-dir", type=Path, help="Keep LLM answers here between runs.")
    parser.add_argument("--show", type=int, default=3, help="Pairs whose answers are printed.")
    args = parser.parse_args(argv)
    if not args.prompts.is_file():
        raise SystemExit(f"No PartiPrompts at {args.prompts} (shared/data/partiprompts).")
    categories = read_categories(args.prompts)
    splits = split_pairs(list(categories))
    shown = ["dev", "test"] if args.split == "both" else [args.split]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            cache_dir=args.cache_dir or Path(tmp),
            llm=LLMSettings(model=args.model, threads=args.threads),
        )
        llm, embed = create_llm(settings), SentenceEncoder(settings).encode_texts

        def judged(hypotheses: list[Hypothesis], truth: str, a: np.ndarray, b: np.ndarray):
            def verdict(text: str, direction: str) -> tuple[float, str]:
                try:
                    result = judge(llm, text, direction, truth, embed)
                except LLMOutputError as error:
                    return 0.0, error.reason
                return result.score, result.reason

            return evaluate(ranked(hypotheses, a, b, embed), verdict)

        for split in shown:
            print(
                f"== {split}: {len(splits[split])} pairs of {sorted({c for p in splits[split] for c in p})}"
            )
            per_seed = {"words": [], "llm": [], "every": [], "one-sided": []}
            bad = {"both sets": 0, "copied": 0, "example": 0, "no valid answer": 0}
            start, calls = time.perf_counter(), 0
            for seed in range(args.seeds):
                totals = {method: [0.0, 0.0] for method in per_seed}
                for index, (name_a, name_b) in enumerate(splits[split]):
                    rng = random.Random(f"{seed}:{name_a}:{name_b}")
                    a = rng.sample(
                        categories[name_a], min(CAPTIONS_PER_SET, len(categories[name_a]))
                    )
                    b = rng.sample(
                        categories[name_b], min(CAPTIONS_PER_SET, len(categories[name_b]))
                    )
                    truth = f"{name_a} vs {name_b}"
                    before = llm.calls
                    config = ProposerConfig(rounds=args.rounds, seed=seed)
                    raw, one_sided_raw, every_raw = [], [], []
                    for request in proposal_requests(a, b, config):
                        try:  # each caption's kind once, for both rows
                            kinds = caption_kinds(llm, request.captions_a + request.captions_b)
                            request = request.model_copy(update={"caption_kinds": kinds})
                            answer = ask_proposal(llm, request)
                            every = ask_proposal(
                                llm, request.model_copy(update={"lists_with_kinds": True})
                            )
                        except LLMOutputError:
                            bad["no valid answer"] += 1
                            continue
                        raw += answer.hypotheses()
                        one_sided_raw += answer.one_sided()
                        every_raw += every.hypotheses()
                    proposed = deduplicate(raw, embed, config.near_duplicate)
                    every_answer = deduplicate(every_raw, embed, config.near_duplicate)
                    # the rule ProposerConfig.one_sided applies after the model: phrases said of both sets go
                    kept = deduplicate(one_sided_raw, embed, config.near_duplicate)
                    calls += llm.calls - before
                    for key, value in bad_outputs(proposed, a + b).items():
                        bad[key] += value
                    vectors = embed(a), embed(b)  # each caption set encoded once a pair
                    results = {
                        "words": judged(uneven_word_hypotheses(a, b), truth, *vectors),
                        "llm": judged(proposed, truth, *vectors),
                        "every": judged(every_answer, truth, *vectors),
                        "one-sided": judged(kept, truth, *vectors),
                    }
                    for method, result in results.items():
                        totals[method][0] += result.acc_at_1 / len(splits[split])
                        totals[method][1] += result.acc_at_5 / len(splits[split])
                    if seed == 0 and index < args.show:
                        print(
                            f"  {truth}: LLM proposed {[(h.text, h.direction) for h in proposed]}"
                        )
                        for j in results["llm"].judged[:3]:
                            print(f"    {j.text!r} ({j.direction}): {j.score} ({j.reason})")
                        print(
                            f"    words' top: {[j.text + ' ' + j.direction for j in results['words'].judged]}"
                        )
                for method in totals:
                    per_seed[method].append(totals[method])
            for method, label in (
                ("words", "uneven caption words, no LLM"),
                ("llm", "LLM proposals alone"),
                ("every", "every answer (lists_with_kinds)"),
                ("one-sided", "+ rule: none said of both sets"),
            ):
                acc1 = [x[0] for x in per_seed[method]]
                acc5 = [x[1] for x in per_seed[method]]
                spread = lambda xs: statistics.pstdev(xs) if len(xs) > 1 else 0.0  # noqa: E731
                print(
                    f"  {label:34s} Acc@1 {statistics.mean(acc1):.2f} ± {spread(acc1):.2f}  "
                    f"Acc@5 {statistics.mean(acc5):.2f} ± {spread(acc5):.2f}  ({args.seeds} seeds)"
                )
            print(
                f"  LLM margin: Acc@1 {statistics.mean(x[0] for x in per_seed['llm']) - statistics.mean(x[0] for x in per_seed['words']):+.2f}; "
                f"bad outputs: {bad}; {calls} proposer calls, {time.perf_counter() - start:.0f} s"
            )


if __name__ == "__main__":
    main()
