"""VisDiff as a Prefect flow: caption -> propose -> rank -> judge, then a report.

Each step is a task with retries. Caching lives in the components and agents (embeddings,
captions and LLM calls are content-addressed on disk and shared across runs and processes), so
the tasks themselves keep no Prefect cache and can take live objects such as the encoder.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Literal

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from clipflows.agents.judge import judge
from clipflows.agents.llm import LLM, create_llm
from clipflows.agents.proposer import ProposerConfig, propose
from clipflows.agents.refiner import RefinerConfig, refine
from clipflows.components.cache import JsonCache
from clipflows.components.captioning import (
    GENERAL_VOCABULARY,
    BlipCaptioner,
    CaptionVocabulary,
    ClipVocabularyCaptioner,
    caption_images,
    vocabulary_hypotheses,
)
from clipflows.components.clip import ClipEncoder, ImageEmbeddings
from clipflows.components.diff_eval import Evaluation, evaluate
from clipflows.components.diff_report import (
    REPORT_FILES,
    ranked_rows,
    to_html,
    to_markdown,
    write_report,
)
from clipflows.components.errors import EmptyInputError
from clipflows.components.images import Skipped, list_images
from clipflows.components.ranking import (
    Hypothesis,
    HypothesisScore,
    RankerConfig,
    filter_significant,
    rank_hypotheses,
)
from clipflows.components.settings import Settings, load_settings

from .progress import log_progress

CaptionerName = Literal["clip-vocabulary", "blip", "vlm"]


class SetSummary(BaseModel):
    name: str
    images: int
    skipped: list[Skipped] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)  # the encoded images; rankings index into it
    encoded: int = 0  # images the model encoded in this run (the rest came from the cache)


class RefineRound(BaseModel):
    round: int
    proposed: int  # new hypotheses this round
    best_auroc: float  # after ranking them with the rest


class SetDifferenceResult(BaseModel):
    set_a: SetSummary
    set_b: SetSummary
    captions_a: list[str]
    captions_b: list[str]
    hypotheses: list[Hypothesis]
    ranking: list[HypothesisScore]
    evaluation: Evaluation | None = None
    refinement: list[RefineRound] = Field(default_factory=list)
    llm_calls: int = 0
    report: dict[str, str] = Field(default_factory=dict)


def resolve_set(images: str | list[str], label: str) -> list[Path]:
    """A folder or a list of files -> image paths; an empty set is an error naming it."""
    paths = list_images(images) if isinstance(images, str) else [Path(p) for p in images]
    if not paths:
        raise EmptyInputError(f"Set {label} has no images ({images!r}).")
    return paths


@task(name="encode-images", retries=1, cache_policy=NO_CACHE)
def encode_task(encoder: ClipEncoder, paths: list[Path], label: str) -> ImageEmbeddings:
    """CLIP embeddings of a whole set (from the embedding cache where possible)."""
    embedded = encoder.encode_images(paths, progress=log_progress(f"encode set {label}"))
    if len(embedded) == 0:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in embedded.skipped[:3])
        raise EmptyInputError(f"Set {label}: no image could be read ({reasons}).")
    return embedded


@task(name="caption-sample", retries=1, cache_policy=NO_CACHE)
def caption_task(captioner, paths: list[str], cache: JsonCache) -> list[str]:
    """Captions of the sampled images of one set."""
    return caption_images(captioner, [Path(p) for p in paths], cache)


@task(name="propose", retries=1, cache_policy=NO_CACHE)
def propose_task(
    llm: LLM,
    encoder: ClipEncoder,
    captions_a: list[str],
    captions_b: list[str],
    config: ProposerConfig,
) -> list[Hypothesis]:
    """LLM hypotheses in both directions, normalised and deduplicated."""
    return propose(llm, captions_a, captions_b, config, embed=encoder.encode_texts)


@task(name="rank", cache_policy=NO_CACHE)
def rank_task(
    encoder: ClipEncoder,
    a: ImageEmbeddings,
    b: ImageEmbeddings,
    hypotheses: list[Hypothesis],
    config: RankerConfig,
) -> list[HypothesisScore]:
    """Every hypothesis over every image: AUROC with CI, mean difference, Welch t-test.

    Significant hypotheses come first (the p-value filter), each group by AUROC."""
    vectors = encoder.encode_texts([h.text for h in hypotheses])
    ranked = rank_hypotheses(a.vectors, b.vectors, hypotheses, vectors, config)
    kept = filter_significant(ranked)
    return kept + [s for s in ranked if not s.significant]


@task(name="refine", retries=1, cache_policy=NO_CACHE)
def refine_task(
    llm: LLM,
    captioner,
    cache: JsonCache,
    a: ImageEmbeddings,
    b: ImageEmbeddings,
    ranking: list[HypothesisScore],
    config: RefinerConfig,
) -> list[Hypothesis]:
    """One refinement round: the LLM sees scores and what the best hypotheses miss."""
    missed = {}
    for direction, embedded in (("A", a), ("B", b)):
        best = next((s for s in ranking if s.direction == direction), None)
        if best is not None and config.missed_captions:
            worst = best.bottom_a if direction == "A" else best.bottom_b
            paths = [Path(embedded.paths[i]) for i in worst[: config.missed_captions]]
            missed[direction] = caption_images(captioner, paths, cache)
    return refine(llm, ranking, missed, config)


def _best_auroc(ranking: list[HypothesisScore]) -> float:
    return max((s.auroc for s in ranking), default=0.5)


@task(name="judge", retries=1, cache_policy=NO_CACHE)
def judge_task(
    llm: LLM, ranking: list[HypothesisScore], truth: str, names: tuple[str, str]
) -> Evaluation:
    """The LLM judge's score for the top five hypotheses against the ground truth."""

    def llm_judge(text: str, direction: str) -> tuple[float, str]:
        verdict = judge(llm, text, direction, truth, *names)
        return verdict.score, verdict.reason

    return evaluate(ranking, llm_judge)


def _captioner(name: CaptionerName, encoder: ClipEncoder, llm: LLM, vocabulary, device: str):
    if name == "clip-vocabulary":
        return ClipVocabularyCaptioner(encoder, vocabulary or GENERAL_VOCABULARY)
    if name == "blip":
        return BlipCaptioner(device=device)
    from clipflows.agents.vlm_captioner import VlmCaptioner

    return VlmCaptioner(llm)


def _sample(paths: list[str], count: int, seed: int) -> list[str]:
    return sorted(random.Random(seed).sample(paths, min(count, len(paths))))


@flow(name="set-difference")
def set_difference(
    set_a: str | list[str],
    set_b: str | list[str],
    settings: Settings | None = None,
    names: tuple[str, str] = ("A", "B"),
    captioner: CaptionerName = "clip-vocabulary",
    vocabulary: CaptionVocabulary | None = None,
    proposer: ProposerConfig | None = None,
    ranker: RankerConfig | None = None,
    extra_hypotheses: list[Hypothesis] | None = None,
    vocabulary_candidates: bool = False,
    llm_proposals: bool = True,
    refiner: RefinerConfig | None = None,
    truth: str | None = None,
    output: str | None = None,
) -> SetDifferenceResult:
    """Describe how image set A differs from set B, ranked by how well CLIP separates them.

    ``extra_hypotheses`` join the LLM's proposals; ``vocabulary_candidates`` adds every phrase
    of the captioning vocabulary in both directions (useful when the LLM is weak);
    ``llm_proposals=False`` ranks only those candidates; ``refiner`` adds rounds in which the
    LLM sees the ranking and proposes better hypotheses, until the best AUROC stops improving."""
    settings = settings or load_settings()
    proposer = proposer or ProposerConfig()
    ranker = ranker or RankerConfig()
    paths_a, paths_b = resolve_set(set_a, names[0]), resolve_set(set_b, names[1])
    encoder = ClipEncoder(settings=settings)
    llm = create_llm(settings)
    a = encode_task(encoder, paths_a, names[0])
    b = encode_task(encoder, paths_b, names[1])
    captions_a: list[str] = []
    captions_b: list[str] = []
    hypotheses: list[Hypothesis] = []
    chosen = cache = None
    if llm_proposals:
        chosen = _captioner(captioner, encoder, llm, vocabulary, str(encoder.device))
        cache = JsonCache(settings.cache_dir / "captions")
        sample = proposer.rounds * proposer.sample_size
        captions_a = caption_task(chosen, _sample(a.paths, sample, proposer.seed), cache)
        captions_b = caption_task(chosen, _sample(b.paths, sample, proposer.seed + 1), cache)
        hypotheses = propose_task(llm, encoder, captions_a, captions_b, proposer)
    extra = list(extra_hypotheses or [])
    if vocabulary_candidates:
        extra += [
            Hypothesis(text=text, direction=direction)
            for text, direction in vocabulary_hypotheses(vocabulary or GENERAL_VOCABULARY)
        ]
    pool = list(dict.fromkeys([*hypotheses, *extra]))
    if not pool:
        raise EmptyInputError("No hypotheses to rank: enable llm_proposals or give candidates.")
    ranking = rank_task(encoder, a, b, pool, ranker)
    rounds: list[RefineRound] = []
    for index in range(refiner.rounds if refiner and llm_proposals else 0):
        new = [h for h in refine_task(llm, chosen, cache, a, b, ranking, refiner) if h not in pool]
        before = _best_auroc(ranking)
        if new:
            pool += new
            ranking = rank_task(encoder, a, b, pool, ranker)
        rounds.append(
            RefineRound(round=index + 1, proposed=len(new), best_auroc=_best_auroc(ranking))
        )
        if not new or _best_auroc(ranking) < before + refiner.min_gain:
            break  # the best AUROC stopped improving
    evaluation = judge_task(llm, ranking, truth, names) if truth else None
    result = SetDifferenceResult(
        set_a=SetSummary(
            name=names[0], images=len(a), skipped=a.skipped, paths=a.paths, encoded=a.encoded
        ),
        set_b=SetSummary(
            name=names[1], images=len(b), skipped=b.skipped, paths=b.paths, encoded=b.encoded
        ),
        captions_a=captions_a,
        captions_b=captions_b,
        hypotheses=pool,
        ranking=ranking,
        evaluation=evaluation,
        refinement=rounds,
        llm_calls=llm.calls,
    )
    title = f"How {names[0]} differs from {names[1]}"
    create_table_artifact(
        key="set-difference-ranking", table=ranked_rows(ranking), description=title
    )
    markdown = to_markdown(title, ranking, evaluation)
    create_markdown_artifact(key="set-difference-report", markdown=markdown)
    if output:
        html_text = to_html(title, ranking, a.paths, b.paths, evaluation)
        result.report = {name: str(Path(output) / name) for name in REPORT_FILES}
        write_report(Path(output), result, markdown, html_text)
    return result
