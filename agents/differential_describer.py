"""The differential describer: an LLM says how two confusable classes look different.

FuDD never released its generator or prompt; this one asks for up to three attributes, each
described once per class, under an enforced, bounded schema. Pairs are independent questions,
so they run concurrently (a server batches them; the embedded model takes them in turn), and the
LLM's answer cache makes a rerun, or another dataset sharing the pair, free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from clipflows.components.classification.descriptions import DescriptionBook, DifferentialEntry

from .llm import LLM, LLMOutputError

MAX_ATTRIBUTES = 3
MAX_CLASS_DESCRIPTIONS = 3
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=80)]

# Tuned on the world class task (Qwen2.5-Coder-1.5B): asking for descriptions "naming the class"
# made it repeat the names, which the English-only CLIP cannot read (24 classes, k = 4: 19.6 %,
# 15 s a pair for five attributes); asking for what a picture shows, in plain English, with one
# worked example from another domain, gives "a red circle" for "red cerchio", about 4 s a pair.
SYSTEM = (
    "You help an image classifier tell two confusable classes apart. For each visual attribute "
    "on which pictures of the two classes differ, say in a few plain English words what a "
    "picture of each class shows. Answer in JSON."
)
PAIR_EXAMPLE = (  # braces doubled: the prompts below are format strings
    "Example. Dataset: photos of garden birds. Class 1: blackbird. Class 2: robin.\n"
    'Answer: {{"differences": [{{"attribute": "colour", "first": "an all-black bird with a '
    'yellow beak", "second": "a small brown bird with an orange-red breast"}}]}}\n'
)
# The instructions and the example first, the pair last: every pair's prompt then starts with
# the same tokens, which llama.cpp evaluates once and reuses from the call before (issue 26).
PAIR_PROMPT = (
    "Give up to {n} attributes on which pictures of two classes differ, each described in plain "
    "English words for what the picture shows (its colour, shape, size, parts), not by the class "
    "names.\n\n" + PAIR_EXAMPLE + "\nDataset: {context}.\nClass 1: {first}\nClass 2: {second}"
)
FOLLOW_UP_PROMPT = (
    PAIR_EXAMPLE + "\nDataset: {context}.\nClass 1: {first}\nClass 2: {second}\n"
    "These descriptions did NOT help a classifier tell them apart:\n{tried}\n"
    "Give up to {n} NEW attributes, different from the ones above, on which pictures of them "
    "differ, each described in plain English words for what the picture shows."
)
CLASS_PROMPT = (
    "Dataset: {context}.\nClass: {name}\nGive up to {n} short descriptions, in plain English "
    "words, of what a picture of {name} shows (its colour, shape, size, parts)."
)


class AttributeDifference(BaseModel):
    attribute: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    first: Description
    second: Description


class PairDifferences(BaseModel):
    """The differential schema: 1-3 attributes, each described for both classes."""

    differences: list[AttributeDifference] = Field(min_length=1, max_length=MAX_ATTRIBUTES)


class ClassDescriptions(BaseModel):
    """The generic (DCLIP-style) schema: 1-3 descriptions of one class."""

    descriptions: list[Description] = Field(min_length=1, max_length=MAX_CLASS_DESCRIPTIONS)


class DescribeReport(BaseModel):
    """What a describe run did: pairs asked, pairs that failed (kept out of the book)."""

    asked: int
    failed: dict[str, str] = Field(default_factory=dict)  # "class a | class b" -> reason


def describe_pair(llm: LLM, context: str, first: str, second: str) -> list[DifferentialEntry]:
    """Entries for one pair, ``description_a`` about ``first``."""
    prompt = PAIR_PROMPT.format(context=context, first=first, second=second, n=MAX_ATTRIBUTES)
    answer = llm.ask_structured([("system", SYSTEM), ("human", prompt)], PairDifferences)
    return [
        DifferentialEntry(attr_type=d.attribute, description_a=d.first, description_b=d.second)
        for d in answer.differences
    ]


def follow_up_pair(
    llm: LLM, context: str, first: str, second: str, tried: list[DifferentialEntry]
) -> list[DifferentialEntry]:
    """New entries for a pair still confused after the second pass; the LLM sees what failed."""
    listed = "\n".join(
        f"- {e.attr_type}: '{e.description_a}' vs '{e.description_b}'" for e in tried
    )
    prompt = FOLLOW_UP_PROMPT.format(
        context=context, first=first, second=second, tried=listed or "- (none)", n=MAX_ATTRIBUTES
    )
    answer = llm.ask_structured([("system", SYSTEM), ("human", prompt)], PairDifferences)
    old = {e.attr_type.lower() for e in tried}
    return [
        DifferentialEntry(attr_type=d.attribute, description_a=d.first, description_b=d.second)
        for d in answer.differences
        if d.attribute.lower() not in old
    ]


def describe_pairs(
    llm: LLM,
    context: str,
    book: DescriptionBook,
    pairs: Sequence[tuple[int, int]],
    workers: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> DescribeReport:
    """Fill ``book`` for the given class-index pairs, concurrently; failures are reported.

    A malformed answer for one pair (after the LLM's retries) loses only that pair: the second
    pass then falls back to the class's template embedding for it.
    """
    report = DescribeReport(asked=len(pairs))
    names = book.class_names

    def one(pair: tuple[int, int]) -> tuple[tuple[int, int], list[DifferentialEntry] | str]:
        try:
            return pair, describe_pair(llm, context, names[pair[0]], names[pair[1]])
        except LLMOutputError as error:
            return pair, str(error)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for done, (pair, result) in enumerate(pool.map(one, pairs), start=1):
            if isinstance(result, str):
                report.failed[f"{names[pair[0]]} | {names[pair[1]]}"] = result
            else:
                book.add(names[pair[0]], names[pair[1]], result)
            if progress:
                progress(done, len(pairs))
    return report


def describe_classes(
    llm: LLM, context: str, class_names: Sequence[str], workers: int = 8
) -> list[list[str]]:
    """Generic descriptions per class (the DCLIP-style baseline); [] where the LLM failed."""

    def one(name: str) -> list[str]:
        prompt = CLASS_PROMPT.format(context=context, name=name, n=MAX_CLASS_DESCRIPTIONS)
        try:
            answer = llm.ask_structured([("system", SYSTEM), ("human", prompt)], ClassDescriptions)
        except LLMOutputError:
            return []
        return list(answer.descriptions)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, class_names))
