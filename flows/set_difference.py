"""VisDiff as a Prefect flow: caption -> propose -> rank -> judge, then a report.

Each step is a task with retries. The independent pieces (image shards, the two caption samples,
each proposer call, each judged hypothesis) are submitted together, so the flow's task runner runs
them concurrently: threads by default, processes or machines with Dask. Tasks receive settings,
not models, and use the models resident in their worker (``worker_models``). Caching lives in the
components and agents (embeddings, captions and LLM calls are content-addressed on disk and shared
across runs and processes), so the tasks keep no Prefect cache and any runner gives the same result.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Literal

from prefect import flow, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from clipflows.agents.judge import Judgement, judge
from clipflows.agents.llm import LLM
from clipflows.agents.proposer import (
    ProposalRequest,
    ProposerConfig,
    ask_proposal,
    deduplicate,
    proposal_requests,
)
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

from .deployments import DEFAULT_THREADS, make_task_runner
from .sharded_encoding import DEFAULT_SHARD_SIZE, encode_in_shards
from .worker_models import worker_encoder, worker_llm

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


@task(name="caption-sample", retries=1, cache_policy=NO_CACHE)
def caption_task(
    settings: Settings,
    captioner: CaptionerName,
    vocabulary: CaptionVocabulary | None,
    paths: list[str],
) -> tuple[list[str], int]:
    """Captions of the sampled images of one set, and the LLM calls they took (VLM only)."""
    llm, encoder = worker_llm(settings), worker_encoder(settings)
    chosen = _captioner(captioner, encoder, llm, vocabulary, str(encoder.device))
    captions = caption_images(
        chosen, [Path(p) for p in paths], JsonCache(settings.cache_dir / "captions")
    )
    return captions, llm.calls


@task(name="propose", retries=1, cache_policy=NO_CACHE)
def propose_task(settings: Settings, request: ProposalRequest) -> tuple[list[Hypothesis], int]:
    """One proposer call's normalised hypotheses, and the LLM calls it took (retries count)."""
    llm = worker_llm(settings)
    return ask_proposal(llm, request), llm.calls


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
    settings: Settings, text: str, direction: str, truth: str, names: tuple[str, str]
) -> tuple[Judgement, int]:
    """The LLM judge's verdict on one hypothesis against the ground truth, and its calls."""
    llm = worker_llm(settings)
    return judge(llm, text, direction, truth, *names), llm.calls


def judge_top(
    settings: Settings, ranking: list[HypothesisScore], truth: str, names: tuple[str, str]
) -> tuple[Evaluation, int]:
    """Acc@1 and Acc@5 of the top five hypotheses, each judged by its own concurrent task."""
    top = ranking[:5]
    futures = judge_task.map(
        settings=unmapped(settings),
        text=[s.text for s in top],
        direction=[s.direction for s in top],
        truth=unmapped(truth),
        names=unmapped(names),
    )
    verdicts = {(s.text, s.direction): f.result() for s, f in zip(top, futures, strict=True)}

    def recorded(text: str, direction: str) -> tuple[float, str]:
        verdict, _ = verdicts[(text, direction)]
        return verdict.score, verdict.reason

    return evaluate(top, recorded), sum(calls for _, calls in verdicts.values())


def _captioner(name: CaptionerName, encoder: ClipEncoder, llm: LLM, vocabulary, device: str):
    if name == "clip-vocabulary":
        return ClipVocabularyCaptioner(encoder, vocabulary or GENERAL_VOCABULARY)
    if name == "blip":
        return BlipCaptioner(device=device)
    from clipflows.agents.vlm_captioner import VlmCaptioner

    return VlmCaptioner(llm)


def _sample(paths: list[str], count: int, seed: int) -> list[str]:
    return sorted(random.Random(seed).sample(paths, min(count, len(paths))))


@flow(name="set-difference", task_runner=make_task_runner("thread", DEFAULT_THREADS))
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
    shard_size: int = DEFAULT_SHARD_SIZE,
) -> SetDifferenceResult:
    """Describe how image set A differs from set B, ranked by how well CLIP separates them.

    ``extra_hypotheses`` join the LLM's proposals; ``vocabulary_candidates`` adds every phrase
    of the captioning vocabulary in both directions (useful when the LLM is weak);
    ``llm_proposals=False`` ranks only those candidates; ``refiner`` adds rounds in which the
    LLM sees the ranking and proposes better hypotheses, until the best AUROC stops improving.
    Encoding runs in tasks of ``shard_size`` images; shards, caption samples, proposer calls
    and judgements run concurrently on the flow's task runner (see flows/deployments.py)."""
    settings = settings or load_settings()
    proposer = proposer or ProposerConfig()
    ranker = ranker or RankerConfig()
    paths_a, paths_b = resolve_set(set_a, names[0]), resolve_set(set_b, names[1])
    encoder, llm = worker_encoder(settings), worker_llm(settings)
    label_a, label_b = f"Set {names[0]}", f"Set {names[1]}"
    if label_a == label_b:  # the labels key the shards and name the set in errors
        label_a, label_b = f"Set A ({names[0]})", f"Set B ({names[1]})"
    embedded = encode_in_shards(settings, {label_a: paths_a, label_b: paths_b}, shard_size)
    a, b = embedded[label_a], embedded[label_b]
    captions_a: list[str] = []
    captions_b: list[str] = []
    hypotheses: list[Hypothesis] = []
    task_calls = 0  # LLM calls made inside tasks, perhaps in other processes
    chosen = cache = None
    if llm_proposals:
        sample = proposer.rounds * proposer.sample_size
        samples = [
            _sample(a.paths, sample, proposer.seed),
            _sample(b.paths, sample, proposer.seed + 1),
        ]
        captioned = caption_task.map(
            settings=unmapped(settings),
            captioner=unmapped(captioner),
            vocabulary=unmapped(vocabulary),
            paths=samples,
        )
        (captions_a, calls_a), (captions_b, calls_b) = [future.result() for future in captioned]
        requests = proposal_requests(captions_a, captions_b, proposer)
        answers = [
            future.result()
            for future in propose_task.map(settings=unmapped(settings), request=requests)
        ]
        found = [hypothesis for proposed, _ in answers for hypothesis in proposed]
        hypotheses = deduplicate(found, encoder.encode_texts, proposer.near_duplicate)
        task_calls += calls_a + calls_b + sum(calls for _, calls in answers)
        chosen = _captioner(captioner, encoder, llm, vocabulary, str(encoder.device))
        cache = JsonCache(settings.cache_dir / "captions")
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
    evaluation = None
    if truth:
        evaluation, judge_calls = judge_top(settings, ranking, truth, names)
        task_calls += judge_calls
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
        llm_calls=llm.calls + task_calls,
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
