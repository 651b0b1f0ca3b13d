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
from clipflows.agents.llm import LLM, llm_weights
from clipflows.agents.proposer import (
    ProposalRequest,
    ProposerConfig,
    ask_proposal,
    deduplicate,
    proposal_requests,
)
from clipflows.agents.refiner import RefinerConfig, refine
from clipflows.components.cache import JsonCache
from clipflows.components.clip.domain import DomainCheck, check_encoder_domain
from clipflows.components.clip.encoder import ClipEncoder, ImageEmbeddings
from clipflows.components.errors import EmptyInputError
from clipflows.components.image_lists import is_image_list, read_image_list
from clipflows.components.images import PathText, Skipped, list_images
from clipflows.components.provenance import Provenance, changed_settings
from clipflows.components.reports import REPORT_FILES, check_report_folder, write_report
from clipflows.components.set_difference import defaults
from clipflows.components.set_difference.captioning import (
    GENERAL_VOCABULARY,
    BlipCaptioner,
    CaptionVocabulary,
    ClipVocabularyCaptioner,
    caption_images,
    describe_vocabulary,
    vocabulary_hypotheses,
    vocabulary_phrases,
)
from clipflows.components.set_difference.evaluation import (
    Evaluation,
    checked,
    evaluate,
    judge_sanity_cases,
)
from clipflows.components.set_difference.ranking import (
    Hypothesis,
    HypothesisScore,
    RankerConfig,
    SetShift,
    check_testable,
    p_text,
    rank_hypotheses,
    set_shift,
    significant_first,
)
from clipflows.components.set_difference.report import ranked_rows, to_html, to_markdown
from clipflows.components.settings import Settings, load_settings
from clipflows.flows.runtime.deployments import DEFAULT_THREADS, make_task_runner
from clipflows.flows.runtime.progress import Steps
from clipflows.flows.runtime.retries import retry_unless_llm_unavailable
from clipflows.flows.runtime.runs import record_run
from clipflows.flows.runtime.sharded_encoding import DEFAULT_SHARD_SIZE, encode_in_shards
from clipflows.flows.runtime.worker_models import (
    worker_encoder,
    worker_llm,
    worker_sentence_encoder,
)

CaptionerName = Literal["clip-vocabulary", "blip", "vlm"]


class SetSummary(BaseModel):
    name: str
    images: int
    skipped: list[Skipped] = Field(default_factory=list)
    paths: list[PathText] = Field(default_factory=list)  # the encoded images, ranking indices
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
    provenance: Provenance = Field(default_factory=Provenance)
    domain: list[DomainCheck] = Field(default_factory=list)  # per set, for narrow named models
    shift: SetShift | None = None
    warnings: list[str] = Field(default_factory=list)  # what the ranking cannot be trusted for


def resolve_set(images: str | list[str], label: str) -> list[Path]:
    """A folder, an image list file (components/image_lists.py) or a list of files -> image
    paths; an empty set is an error naming it."""
    if isinstance(images, str):
        paths = read_image_list(images) if is_image_list(images) else list_images(images)
    else:
        paths = [Path(p) for p in images]
    if not paths:
        raise EmptyInputError(f"Set {label} has no images ({images!r}).")
    return paths


@task(
    name="caption-sample",
    retries=1,
    retry_condition_fn=retry_unless_llm_unavailable,
    cache_policy=NO_CACHE,
)
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


@task(
    name="propose",
    retries=1,
    retry_condition_fn=retry_unless_llm_unavailable,
    cache_policy=NO_CACHE,
)
def propose_task(settings: Settings, request: ProposalRequest) -> tuple[list[Hypothesis], int]:
    """One proposer call's normalised hypotheses, and the LLM calls it took (retries count)."""
    llm = worker_llm(settings)
    return ask_proposal(llm, request), llm.calls


@task(name="rank", cache_policy=NO_CACHE)
def rank_task(
    settings: Settings,
    a: ImageEmbeddings,
    b: ImageEmbeddings,
    hypotheses: list[Hypothesis],
    config: RankerConfig,
    reference_texts: list[str],
) -> tuple[list[HypothesisScore], SetShift]:
    """Every hypothesis over every image: AUROC with CI, mean difference, Welch t-test, each
    image's scores centred on the reference texts; and the shift of one set's scores that the
    centring removed. Significant hypotheses come first, each group by AUROC."""
    encoder = worker_encoder(settings)
    vectors = encoder.encode_texts([h.text for h in hypotheses])
    reference = encoder.encode_texts(reference_texts)
    ranked = rank_hypotheses(a.vectors, b.vectors, hypotheses, vectors, config, reference)
    phrases = encoder.encode_texts(list(dict.fromkeys(h.text for h in hypotheses)))
    shift = set_shift(a.vectors, b.vectors, phrases, reference, centred=config.centre)
    return significant_first(ranked), shift


@task(
    name="refine", retries=1, retry_condition_fn=retry_unless_llm_unavailable, cache_policy=NO_CACHE
)
def refine_task(
    settings: Settings,
    captioner: CaptionerName,
    vocabulary: CaptionVocabulary | None,
    a: ImageEmbeddings,
    b: ImageEmbeddings,
    ranking: list[HypothesisScore],
    config: RefinerConfig,
) -> tuple[list[Hypothesis], int]:
    """One refinement round: the LLM sees scores and what the best hypotheses miss; the new
    hypotheses and the LLM calls they took. Models come from the worker, like every task's."""
    llm, encoder = worker_llm(settings), worker_encoder(settings)
    chosen = _captioner(captioner, encoder, llm, vocabulary, str(encoder.device))
    cache = JsonCache(settings.cache_dir / "captions")
    missed = {}
    for direction, embedded in (("A", a), ("B", b)):
        best = next((s for s in ranking if s.direction == direction), None)
        if best is not None and config.missed_captions:
            worst = best.bottom_a if direction == "A" else best.bottom_b
            paths = [Path(embedded.paths[i]) for i in worst[: config.missed_captions]]
            missed[direction] = caption_images(chosen, paths, cache)
    return refine(llm, ranking, missed, config), llm.calls


def _best_auroc(ranking: list[HypothesisScore]) -> float:
    return max((s.auroc for s in ranking), default=0.5)


@task(
    name="judge", retries=1, retry_condition_fn=retry_unless_llm_unavailable, cache_policy=NO_CACHE
)
def judge_task(settings: Settings, text: str, direction: str, truth: str) -> tuple[Judgement, int]:
    """The LLM judge's verdict on one hypothesis against the ground truth, and its calls."""
    llm, sentences = worker_llm(settings), worker_sentence_encoder(settings)
    return judge(llm, text, direction, truth, sentences.encode_texts), llm.calls


def judge_top(
    settings: Settings, ranking: list[HypothesisScore], truth: str
) -> tuple[Evaluation, int]:
    """Acc@1 and Acc@5 of the top five hypotheses, each judged by its own concurrent task.

    The judge is first checked on cases whose score is known (the truth's set-A side said of
    A and of B, an off-topic phrase); a judge that gets any wrong reports no accuracy, only
    a ``judge_warning`` saying what it scored."""
    top = ranking[:5]
    sanity = judge_sanity_cases(truth)
    keys = [(s.text, s.direction) for s in top] + [(c.text, c.direction) for c in sanity]
    asked = list(dict.fromkeys(keys))  # a top hypothesis may be a sanity case too
    futures = judge_task.map(
        settings=unmapped(settings),
        text=[text for text, _ in asked],
        direction=[direction for _, direction in asked],
        truth=unmapped(truth),
    )
    verdicts = {key: f.result() for key, f in zip(asked, futures, strict=True)}

    def recorded(text: str, direction: str) -> tuple[float, str]:
        verdict, _ = verdicts[(text, direction)]
        return verdict.score, verdict.reason

    evaluation = checked(evaluate(top, recorded), sanity, recorded)
    return evaluation, sum(calls for _, calls in verdicts.values())


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
    captioner: CaptionerName = defaults.CAPTIONER,
    vocabulary: CaptionVocabulary | None = None,
    proposer: ProposerConfig | None = None,
    ranker: RankerConfig | None = None,
    extra_hypotheses: list[Hypothesis] | None = None,
    vocabulary_candidates: bool = defaults.VOCABULARY_CANDIDATES,
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
    and judgements run concurrently on the flow's task runner (see flows/runtime/deployments.py)."""
    settings = settings or load_settings()
    if output:
        check_report_folder(output)  # a bad -o fails now, not after the run
    proposer = proposer or ProposerConfig()
    ranker = ranker or RankerConfig()
    paths_a, paths_b = resolve_set(set_a, names[0]), resolve_set(set_b, names[1])
    refining = bool(refiner and refiner.rounds and llm_proposals)
    steps = Steps(
        "load the models",
        "encode the images",
        *(["caption samples", "propose hypotheses"] if llm_proposals else []),
        "rank the hypotheses",
        *(["refine"] if refining else []),
        *(["judge the top hypotheses"] if truth else []),
        "write the report",
    )
    steps.start("load the models")
    encoder, llm = worker_encoder(settings), worker_llm(settings)
    label_a, label_b = f"Set {names[0]}", f"Set {names[1]}"
    if label_a == label_b:  # the labels key the shards and name the set in errors
        label_a, label_b = f"Set A ({names[0]})", f"Set B ({names[1]})"
    steps.start("encode the images")
    embedded = encode_in_shards(settings, {label_a: paths_a, label_b: paths_b}, shard_size)
    a, b = embedded[label_a], embedded[label_b]
    check_testable(len(a), len(b), ranker, (label_a, label_b))  # before any caption or LLM call
    domain = check_encoder_domain(encoder, a.paths, b.paths)
    reference = vocabulary_phrases(vocabulary or GENERAL_VOCABULARY)
    captions_a: list[str] = []
    captions_b: list[str] = []
    hypotheses: list[Hypothesis] = []
    task_calls = 0  # LLM calls made inside tasks, perhaps in other processes
    if llm_proposals:
        steps.start("caption samples")
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
        steps.start("propose hypotheses")
        requests = proposal_requests(captions_a, captions_b, proposer)
        answers = [
            future.result()
            for future in propose_task.map(settings=unmapped(settings), request=requests)
        ]
        found = [hypothesis for proposed, _ in answers for hypothesis in proposed]
        hypotheses = deduplicate(found, encoder.encode_texts, proposer.near_duplicate)
        task_calls += calls_a + calls_b + sum(calls for _, calls in answers)
    extra = list(extra_hypotheses or [])
    if vocabulary_candidates:
        extra += [
            Hypothesis(text=text, direction=direction)
            for text, direction in vocabulary_hypotheses(vocabulary or GENERAL_VOCABULARY)
        ]
    pool = list(dict.fromkeys([*hypotheses, *extra]))
    if not pool:
        raise EmptyInputError("No hypotheses to rank: enable llm_proposals or give candidates.")
    steps.start("rank the hypotheses")
    ranking, shift = rank_task(settings, a, b, pool, ranker, reference)
    rounds: list[RefineRound] = []
    if refining:
        steps.start("refine")
    for index in range(refiner.rounds if refiner and llm_proposals else 0):
        proposed, calls = refine_task(settings, captioner, vocabulary, a, b, ranking, refiner)
        task_calls += calls
        new = [h for h in proposed if h not in pool]
        before = _best_auroc(ranking)
        if new:
            pool += new
            ranking, shift = rank_task(settings, a, b, pool, ranker, reference)
        rounds.append(
            RefineRound(round=index + 1, proposed=len(new), best_auroc=_best_auroc(ranking))
        )
        if not new or _best_auroc(ranking) < before + refiner.min_gain:
            break  # the best AUROC stopped improving
    evaluation = None
    if truth:
        steps.start("judge the top hypotheses")
        evaluation, judge_calls = judge_top(settings, ranking, truth)
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
        provenance=Provenance(
            clip=settings.clip,
            clip_weights=encoder.model_identity,
            captioner=captioner if llm_proposals else None,
            vocabulary=describe_vocabulary(vocabulary or GENERAL_VOCABULARY),
            llm=llm.identity if llm_proposals or truth else None,
            llm_weights=llm_weights(settings) if llm_proposals or truth else None,
            settings=changed_settings(settings),
        ),
        domain=domain,
        shift=shift,
        warnings=[
            *(
                f"Set {name}: {check.warning()}"
                for name, check in zip(names, domain, strict=False)  # [] for most models
                if check.outside
            ),
            *([shift.note()] if shift.one_sided else []),
        ],
    )
    steps.start("write the report")
    title = f"How {names[0]} differs from {names[1]}"
    create_table_artifact(
        key="set-difference-ranking", table=ranked_rows(ranking), description=title
    )
    markdown = to_markdown(title, ranking, evaluation, result.warnings, result.provenance)
    create_markdown_artifact(key="set-difference-report", markdown=markdown)
    if output:
        html_text = to_html(
            title,
            ranking,
            a.paths,
            b.paths,
            evaluation,
            warnings=result.warnings,
            provenance=result.provenance,
        )
        result.report = {name: str(Path(output) / name) for name in REPORT_FILES}
        files = {"result.json": result.model_dump_json(indent=2), "report.md": markdown}
        write_report(Path(output), "set-difference", {**files, "report.html": html_text})
        record_run(settings.cache_dir, "set-difference", f"{names[0]} vs {names[1]}", output)
    return result


def headline(result: SetDifferenceResult) -> str:
    """The answer in a sentence: the top difference, or that none is significant, then what
    the ranking cannot be trusted for."""
    if not result.ranking:
        return "No hypotheses were ranked."
    best = result.ranking[0]  # the significant ones come first
    found = (
        f"'{best.text}' (more true of {best.direction}, AUROC {best.auroc:.2f}, "
        f"adjusted p {p_text(best.p_adjusted)})"
    )
    sentence = (
        f"Top difference: {found}."
        if best.significant
        else f"No significant difference among {len(result.ranking)} hypotheses; best: {found}."
    )
    return " ".join([sentence, *(f"Warning: {w}" for w in result.warnings)])
