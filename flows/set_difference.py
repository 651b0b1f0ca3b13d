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

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from clipflows.agents.judge import Judgement, judge
from clipflows.agents.llm import LLM, llm_weights
from clipflows.agents.proposer import (
    ProposalRequest,
    ProposerConfig,
    RoundAnswer,
    ask_proposal,
    caption_kinds,
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
from clipflows.components.reports import check_report_folder
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
from clipflows.components.set_difference.defaults import Captioner
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
    best_auroc,
    check_testable,
    p_text,
    rank_hypotheses,
    set_shift,
    significant_first,
)
from clipflows.components.set_difference.report import ranked_rows, to_html, to_markdown
from clipflows.components.settings import Settings, load_settings
from clipflows.flows.runtime.deployments import DEFAULT_THREADS, make_task_runner
from clipflows.flows.runtime.llm_calls import CallTally, Counted
from clipflows.flows.runtime.progress import Steps
from clipflows.flows.runtime.publish import Report, publish_report
from clipflows.flows.runtime.retries import retry_unless_llm_unavailable
from clipflows.flows.runtime.sharded_encoding import DEFAULT_SHARD_SIZE, encode_in_shards
from clipflows.flows.runtime.worker_models import (
    worker_encoder,
    worker_llm,
    worker_sentence_encoder,
)

CaptionerName = defaults.Captioner  # the flow, CLI and deployments share one declaration


class SetSummary(BaseModel):
    name: str
    images: int
    skipped: list[Skipped] = Field(default_factory=list)
    paths: list[PathText] = Field(default_factory=list)  # the encoded images, ranking indices
    encoded: int = 0  # images the model encoded in this run (the rest came from the cache)

    @classmethod
    def of(cls, name: str, embedded: ImageEmbeddings) -> SetSummary:
        """The summary of one set's encoding."""
        return cls(
            name=name,
            images=len(embedded),
            skipped=embedded.skipped,
            paths=embedded.paths,
            encoded=embedded.encoded,
        )


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
    vocabulary: CaptionVocabulary,
    paths: list[str],
) -> Counted[list[str]]:
    """Captions of the sampled images of one set (the VLM captioner asks the LLM)."""
    llm, encoder = worker_llm(settings), worker_encoder(settings)
    chosen = _captioner(captioner, encoder, llm, vocabulary, str(encoder.device))
    captions = caption_images(
        chosen, [Path(p) for p in paths], JsonCache(settings.cache_dir / "captions")
    )
    return Counted(captions, llm.calls)


@task(
    name="caption kinds",
    retries=1,
    retry_condition_fn=retry_unless_llm_unavailable,
    cache_policy=NO_CACHE,
)
def caption_kinds_task(settings: Settings, captions: list[str]) -> Counted[dict[str, str]]:
    """The kind of thing each caption shows, asked once a caption (retries count as calls)."""
    llm = worker_llm(settings)
    return Counted(caption_kinds(llm, captions), llm.calls)


@task(
    name="propose",
    retries=1,
    retry_condition_fn=retry_unless_llm_unavailable,
    cache_policy=NO_CACHE,
)
def propose_task(settings: Settings, request: ProposalRequest) -> Counted[RoundAnswer]:
    """One proposer round's normalised hypotheses (retries count as calls)."""
    llm = worker_llm(settings)
    return Counted(ask_proposal(llm, request), llm.calls)


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
    vocabulary: CaptionVocabulary,
    a: ImageEmbeddings,
    b: ImageEmbeddings,
    ranking: list[HypothesisScore],
    config: RefinerConfig,
) -> Counted[list[Hypothesis]]:
    """One refinement round: the LLM sees scores and what the best hypotheses miss, and
    proposes new hypotheses. Models come from the worker, like every task's."""
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
    return Counted(refine(llm, ranking, missed, config), llm.calls)


@task(
    name="judge", retries=1, retry_condition_fn=retry_unless_llm_unavailable, cache_policy=NO_CACHE
)
def judge_task(settings: Settings, text: str, direction: str, truth: str) -> Counted[Judgement]:
    """The LLM judge's verdict on one hypothesis against the ground truth."""
    llm, sentences = worker_llm(settings), worker_sentence_encoder(settings)
    return Counted(judge(llm, text, direction, truth, sentences.encode_texts), llm.calls)


def _captioner(
    name: CaptionerName, encoder: ClipEncoder, llm: LLM, vocabulary: CaptionVocabulary, device: str
):
    if name == Captioner.CLIP_VOCABULARY:
        return ClipVocabularyCaptioner(encoder, vocabulary)
    if name == Captioner.BLIP:
        return BlipCaptioner(device=device)
    from clipflows.agents.vlm_captioner import VlmCaptioner

    return VlmCaptioner(llm)


def _sample(paths: list[str], count: int, seed: int) -> list[str]:
    return sorted(random.Random(seed).sample(paths, min(count, len(paths))))


def set_labels(names: tuple[str, str]) -> tuple[str, str]:
    """Two distinct labels for the sets: they key the shards and name the set in errors."""
    label_a, label_b = f"Set {names[0]}", f"Set {names[1]}"
    if label_a == label_b:
        return f"Set A ({names[0]})", f"Set B ({names[1]})"
    return label_a, label_b


def encode_sets(
    settings: Settings, names: tuple[str, str], paths: tuple[list[Path], list[Path]], shard: int
) -> tuple[ImageEmbeddings, ImageEmbeddings]:
    """Both sets' image embeddings, encoded in shards of ``shard`` images."""
    label_a, label_b = set_labels(names)
    embedded = encode_in_shards(settings, {label_a: paths[0], label_b: paths[1]}, shard)
    return embedded[label_a], embedded[label_b]


def caption_samples(
    settings: Settings,
    captioner: CaptionerName,
    vocabulary: CaptionVocabulary,
    sets: tuple[ImageEmbeddings, ImageEmbeddings],
    proposer: ProposerConfig,
    tally: CallTally,
) -> tuple[list[str], list[str]]:
    """Captions of a sample of each set: enough for every proposal round, one task a set."""
    count = proposer.rounds * proposer.sample_size
    samples = [
        _sample(sets[0].paths, count, proposer.seed),
        _sample(sets[1].paths, count, proposer.seed + 1),
    ]
    captioned = caption_task.map(
        settings=unmapped(settings),
        captioner=unmapped(captioner),
        vocabulary=unmapped(vocabulary),
        paths=samples,
    )
    captions_a, captions_b = tally.take_all(captioned)
    return captions_a, captions_b


def propose_hypotheses(
    settings: Settings,
    captions: tuple[list[str], list[str]],
    proposer: ProposerConfig,
    encoder: ClipEncoder,
    tally: CallTally,
) -> list[Hypothesis]:
    """The LLM's hypotheses from every round's captions, one task a round; near-duplicates (by
    CLIP text embedding) dropped, and with ``proposer.one_sided`` the phrases an answer gives
    for both sets."""
    requests = proposal_requests(*captions, proposer)
    if proposer.kinds:  # each caption once, in one order, before the rounds run side by side
        asked = [c for r in requests for c in (*r.captions_a, *r.captions_b)]
        kinds = tally.take(caption_kinds_task(settings, asked))
        requests = [r.model_copy(update={"caption_kinds": kinds}) for r in requests]
    answers = tally.take_all(propose_task.map(settings=unmapped(settings), request=requests))
    found = [hypothesis for answer in answers for hypothesis in answer.kept(proposer)]
    return deduplicate(found, encoder.encode_texts, proposer.near_duplicate)


def candidate_pool(
    proposed: list[Hypothesis],
    extra: list[Hypothesis],
    vocabulary: CaptionVocabulary | None,
    llm_asked: bool = False,
) -> list[Hypothesis]:
    """The hypotheses to rank: the LLM's (``llm_asked``: it was asked for some), the caller's,
    and with ``vocabulary`` every one of its phrases in both directions; each once."""
    pool = [*proposed, *extra]
    if vocabulary is not None:
        pool += [
            Hypothesis(text=text, direction=direction)
            for text, direction in vocabulary_hypotheses(vocabulary)
        ]
    pool = list(dict.fromkeys(pool))
    if not pool and llm_asked:
        raise EmptyInputError(
            "No hypotheses to rank: the LLM's answers left none (with ProposerConfig.one_sided, "
            "a phrase it gives for both sets is dropped). Give candidates, rank the vocabulary, "
            "or turn one_sided off."
        )
    if not pool:
        raise EmptyInputError("No hypotheses to rank: enable llm_proposals or give candidates.")
    return pool


class Refined(BaseModel):
    """Refinement's outcome: the grown pool, its ranking and shift, and each round's gain."""

    pool: list[Hypothesis]
    ranking: list[HypothesisScore]
    shift: SetShift
    rounds: list[RefineRound]


def refine_rounds(
    settings: Settings,
    captioner: CaptionerName,
    vocabulary: CaptionVocabulary,
    sets: tuple[ImageEmbeddings, ImageEmbeddings],
    ranked: Refined,
    ranker: RankerConfig,
    refiner: RefinerConfig,
    tally: CallTally,
) -> Refined:
    """Rounds in which the LLM sees the ranking and proposes more, each ranked with the rest,
    until a round adds nothing or the best AUROC gains less than ``refiner.min_gain``."""
    a, b = sets
    reference = vocabulary_phrases(vocabulary)
    pool, ranking, shift, rounds = list(ranked.pool), ranked.ranking, ranked.shift, []
    for index in range(refiner.rounds):
        proposed = tally.take(refine_task(settings, captioner, vocabulary, a, b, ranking, refiner))
        new = [h for h in proposed if h not in pool]
        before = best_auroc(ranking)
        if new:
            pool += new
            ranking, shift = rank_task(settings, a, b, pool, ranker, reference)
        rounds.append(
            RefineRound(round=index + 1, proposed=len(new), best_auroc=best_auroc(ranking))
        )
        if not new or best_auroc(ranking) < before + refiner.min_gain:
            break  # the best AUROC stopped improving
    return Refined(pool=pool, ranking=ranking, shift=shift, rounds=rounds)


def judge_top(
    settings: Settings, ranking: list[HypothesisScore], truth: str, tally: CallTally
) -> Evaluation:
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
    verdicts = dict(zip(asked, tally.take_all(futures), strict=True))

    def recorded(text: str, direction: str) -> tuple[float, str]:
        verdict = verdicts[(text, direction)]
        return verdict.score, verdict.reason

    return checked(evaluate(top, recorded), sanity, recorded)


def ranking_warnings(
    names: tuple[str, str], domain: list[DomainCheck], shift: SetShift | None
) -> list[str]:
    """What the ranking cannot be trusted for: a set outside a narrow model's domain, a shift
    of every text toward one set."""
    outside = [
        f"Set {name}: {check.warning()}"
        for name, check in zip(names, domain, strict=False)  # [] for most models
        if check.outside
    ]
    return [*outside, *([shift.note()] if shift is not None and shift.one_sided else [])]


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
    proposer, ranker = proposer or ProposerConfig(), ranker or RankerConfig()
    vocabulary = vocabulary or GENERAL_VOCABULARY
    paths = resolve_set(set_a, names[0]), resolve_set(set_b, names[1])
    steps = Steps(
        "load the models",
        "encode the images",
        ("caption samples", llm_proposals),
        ("propose hypotheses", llm_proposals),
        "rank the hypotheses",
        ("refine", bool(refiner and refiner.rounds and llm_proposals)),
        ("judge the top hypotheses", bool(truth)),
        "write the report",
    )
    tally = CallTally()  # LLM calls made inside tasks, perhaps in other processes

    steps.start("load the models")
    encoder, llm = worker_encoder(settings), worker_llm(settings)
    steps.start("encode the images")
    a, b = encode_sets(settings, names, paths, shard_size)
    check_testable(len(a), len(b), ranker, set_labels(names))  # before any caption or LLM call
    domain = check_encoder_domain(encoder, a.paths, b.paths)
    captions: tuple[list[str], list[str]] = ([], [])
    if steps.enter("caption samples"):
        captions = caption_samples(settings, captioner, vocabulary, (a, b), proposer, tally)
    proposed: list[Hypothesis] = []
    if steps.enter("propose hypotheses"):
        proposed = propose_hypotheses(settings, captions, proposer, encoder, tally)
    pool = candidate_pool(
        proposed,
        list(extra_hypotheses or []),
        vocabulary if vocabulary_candidates else None,
        llm_asked=llm_proposals,
    )
    steps.start("rank the hypotheses")
    ranking, shift = rank_task(settings, a, b, pool, ranker, vocabulary_phrases(vocabulary))
    ranked = Refined(pool=pool, ranking=ranking, shift=shift, rounds=[])
    if steps.enter("refine"):
        ranked = refine_rounds(
            settings, captioner, vocabulary, (a, b), ranked, ranker, refiner, tally
        )
    evaluation = None
    if steps.enter("judge the top hypotheses"):
        evaluation = judge_top(settings, ranked.ranking, truth, tally)

    uses_llm = llm_proposals or bool(truth)
    result = SetDifferenceResult(
        set_a=SetSummary.of(names[0], a),
        set_b=SetSummary.of(names[1], b),
        captions_a=captions[0],
        captions_b=captions[1],
        hypotheses=ranked.pool,
        ranking=ranked.ranking,
        evaluation=evaluation,
        refinement=ranked.rounds,
        llm_calls=llm.calls + tally.calls,
        provenance=Provenance(
            clip=settings.clip,
            clip_weights=encoder.model_identity,
            captioner=Captioner(captioner).value if llm_proposals else None,
            vocabulary=describe_vocabulary(vocabulary),
            llm=llm.identity if uses_llm else None,
            llm_weights=llm_weights(settings) if uses_llm else None,
            settings=changed_settings(settings),
        ),
        domain=domain,
        shift=ranked.shift,
        warnings=ranking_warnings(names, domain, ranked.shift),
    )
    steps.start("write the report")
    title = f"How {names[0]} differs from {names[1]}"
    report = Report(
        workflow="set-difference",
        title=title,
        run_title=f"{names[0]} vs {names[1]}",
        table_name="ranking",
        table=ranked_rows(result.ranking),
        markdown=to_markdown(title, result.ranking, evaluation, result.warnings, result.provenance),
    )
    publish_report(
        result,
        report,
        lambda: to_html(
            title,
            result.ranking,
            a.paths,
            b.paths,
            evaluation,
            warnings=result.warnings,
            provenance=result.provenance,
        ),
        output,
        settings.cache_dir,
    )
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
