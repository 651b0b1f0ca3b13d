"""FuDD as a Prefect flow: zero-shot first pass -> ambiguity sets -> differential descriptions
for the pairs that occur -> second pass -> fusion, with the paper's baselines beside it.

Caching lives in the components and agents (image and text embeddings, LLM answers), so a rerun
encodes nothing and asks the LLM nothing; the tasks keep no Prefect cache. Image shards and
chunks of class pairs are tasks submitted together, so the flow's task runner (threads by default,
Dask for many workers) runs them concurrently, each with its worker's resident models.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from clipflows.agents.differential_describer import (
    describe_classes,
    describe_pairs,
    follow_up_pair,
)
from clipflows.agents.llm import llm_weights, seconds_per_answer
from clipflows.components.classification.class_lists import read_class_list
from clipflows.components.classification.datasets import (
    LabelledImages,
    load_image_folder,
    load_labels_csv,
    validation_split,
)
from clipflows.components.classification.descriptions import (
    DescriptionBook,
    fit_book_to_context,
    fudd_file_text,
    read_fudd_file,
)
from clipflows.components.classification.evidence import (
    ChanceLevel,
    chance_level,
    chance_warning,
    collapse_warnings,
)
from clipflows.components.classification.report import (
    ChangedExample,
    ConfusedPair,
    Method,
    MethodAccuracy,
    changed_examples,
    confused_pairs,
    first_pass_label,
    follow_up_pairs,
    method_accuracies,
    method_rows,
    to_html,
    to_markdown,
)
from clipflows.components.classification.second_pass import (
    FusionRule,
    PassPredictions,
    choose_fusion,
    chosen_in_sets,
    description_class_vectors,
    occurring_pairs,
    positions_in_sets,
    predict_passes,
    scores_in_sets,
    second_pass_scores,
)
from clipflows.components.classification.sources import LLM_DESCRIPTIONS, WORLD_TASK
from clipflows.components.clip.encoder import ClipEncoder, ImageEmbeddings
from clipflows.components.clip.text import fit_to_context
from clipflows.components.clip.zeroshot import ZeroShotClassifier, ambiguity_sets
from clipflows.components.images import Skipped
from clipflows.components.provenance import Provenance, changed_settings
from clipflows.components.reports import check_report_folder
from clipflows.components.settings import Settings, load_settings, world_unless_named
from clipflows.components.world.class_task import WorldOracle, world_class_task
from clipflows.flows.runtime.chunks import Written, in_chunks
from clipflows.flows.runtime.deployments import DEFAULT_THREADS, make_task_runner
from clipflows.flows.runtime.llm_calls import CallTally, Counted
from clipflows.flows.runtime.progress import Steps, log_progress
from clipflows.flows.runtime.publish import Report, publish_report
from clipflows.flows.runtime.retries import retry_unless_llm_unavailable
from clipflows.flows.runtime.sharded_encoding import DEFAULT_SHARD_SIZE, encode_in_shards
from clipflows.flows.runtime.worker_models import worker_encoder, worker_llm

DESCRIPTIONS_FILE = "descriptions.json"


class ClassifyConfig(BaseModel):
    """How to classify. ``descriptions``: "llm", "world" (ground-truth oracle, world task only)
    or the path of a FuDD description file; ``description_classes``: the class list (JSON list
    or a name a line) whose order that file's indices count, when FuDD's is not beside it."""

    templates: str | list[str] = "single"
    k: int = Field(default=10, ge=2)
    descriptions: str = LLM_DESCRIPTIONS
    description_classes: str | None = None
    generic: bool = True
    ensemble: bool = True
    context: str | None = None
    validation_fraction: float = Field(default=0.3, ge=0, lt=1)
    workers: int = Field(default=8, ge=1)  # concurrent LLM calls within one task
    pairs_per_task: int = Field(default=32, ge=1)  # class pairs per describe task
    shard_size: int = Field(default=DEFAULT_SHARD_SIZE, ge=1)  # images per encoding task
    follow_up: int = Field(default=0, ge=0, le=50)  # most-confused pairs to ask about again
    seed: int = 0


class ImagePrediction(BaseModel):
    path: str
    truth: str
    ambiguity_set: list[str]  # the first pass's top k, best first
    first_pass: str
    fudd: str
    fused: str


class ClassifyResult(BaseModel):
    dataset: str
    class_names: list[str]
    images: int
    skipped: list[Skipped] = Field(default_factory=list)
    k: int
    pairs_occurring: int
    pairs_possible: int
    pairs_described: int
    llm_calls_pairs: int  # real LLM calls for differential descriptions (cache hits are free)
    llm_calls: int  # all real LLM calls, generic descriptions included
    description_failures: dict[str, str] = Field(default_factory=dict)
    followed_up: list[str] = Field(default_factory=list)  # pairs given new attributes
    truncated_descriptions: int
    fusion: FusionRule
    methods: list[MethodAccuracy]
    validation_images: int
    test_images: int
    confused: list[ConfusedPair]
    changed_by: str
    fixed: list[ChangedExample]
    broken: list[ChangedExample]
    predictions: list[ImagePrediction]
    report: dict[str, str] = Field(default_factory=dict)
    chance: ChanceLevel | None = None  # None without test images
    warnings: list[str] = Field(default_factory=list)  # what the accuracies cannot be trusted for
    provenance: Provenance = Field(default_factory=Provenance)

    def accuracy(self, method: Method | str) -> float:
        """A row's test accuracy; a method the table does not have is a KeyError naming those
        it has."""
        found = [m.accuracy for m in self.methods if m.method == method]
        if not found:
            raise KeyError(f"No method {str(method)!r}; rows: {[m.method for m in self.methods]}.")
        return found[0]


# Tokens the LLM writes for one pair's descriptions: 3,720 for 63 pairs in the LLM evaluation
# (docs/llm-backends.md); with the model's measured speed, the time a run's calls take.
DESCRIPTION_TOKENS = 60


class DescriptionCost(BaseModel):
    """What asking the LLM for a dataset's pair descriptions costs at most, before a run."""

    calls: int  # pairs that can share an ambiguity set: every pair, or fewer when images are few
    seconds: float | None  # at the model's measured speed; None where none was measured

    def text(self, k: int) -> str:
        took = (
            f", about {self.seconds / 60:.0f} min at the model's measured speed"
            if (self.seconds)
            else ""
        )
        return (
            f"Up to {self.calls} LLM calls (one per pair of classes that share an image's top "
            f"{k}){took}; answers are cached, so a rerun asks only new pairs. A smaller k "
            "asks fewer."
        )


def description_cost(data: LabelledImages, k: int, settings: Settings) -> DescriptionCost:
    """The most LLM calls a run can make, and their time, before any image is encoded."""
    classes, per_image = len(data.class_names), math.comb(min(k, len(data.class_names)), 2)
    calls = min(math.comb(classes, 2), len(data.paths) * per_image)
    each = seconds_per_answer(settings, DESCRIPTION_TOKENS)
    return DescriptionCost(calls=calls, seconds=None if each is None else calls * each)


def load_dataset(dataset: str, settings: Settings, classes: list[str] | None) -> LabelledImages:
    """ "world" (WORLD_TASK), an image folder per class, or a CSV of path,label."""
    if dataset == WORLD_TASK:
        return world_class_task(settings.cache_dir / "world-classes")
    path = Path(dataset)
    if path.suffix.lower() == ".csv":
        return load_labels_csv(path, classes)
    return load_image_folder(path)


def dataset_settings(dataset: str | LabelledImages, settings: Settings) -> Settings:
    """The world task's renders get the world CLIP unless the settings name another model."""
    return world_unless_named(settings) if dataset == WORLD_TASK else settings


def description_oracle(config: ClassifyConfig) -> WorldOracle | None:
    """The ground-truth oracle that writes the descriptions instead of the LLM, if chosen."""
    return WorldOracle() if config.descriptions == WORLD_TASK else None


@task(
    name="describe-pairs",
    retries=1,
    retry_condition_fn=retry_unless_llm_unavailable,
    cache_policy=NO_CACHE,
)
def describe_task(
    settings: Settings,
    context: str,
    class_names: list[str],
    pairs: list[tuple[int, int]],
    workers: int,
) -> Counted[Written]:
    """LLM descriptions for one chunk of pairs: entries by pair, and the pairs that failed."""
    llm = worker_llm(settings)
    book = DescriptionBook(class_names=class_names)
    report = describe_pairs(
        llm, context, book, pairs, workers, log_progress(f"describe {len(pairs)} pairs")
    )
    return Counted(Written(book.pairs, report.failed), llm.calls)


@task(
    name="follow-up",
    retries=1,
    retry_condition_fn=retry_unless_llm_unavailable,
    cache_policy=NO_CACHE,
)
def follow_up_task(
    settings: Settings, context: str, book: DescriptionBook, pairs: list[ConfusedPair]
) -> Counted[tuple[DescriptionBook, list[str]]]:
    """Ask again, for new attributes, about pairs still confused: the book extended (a copy, so
    a task in another process returns it) and the pairs extended."""
    llm, book = worker_llm(settings), book.model_copy(deep=True)
    extended = []
    for pair in pairs:
        tried = book.entries_for(pair.class_a, pair.class_b)
        new = follow_up_pair(llm, context, pair.class_a, pair.class_b, tried)
        if new:
            book.add(pair.class_a, pair.class_b, tried + new)
            extended.append(f"{pair.class_a} | {pair.class_b}")
    return Counted((book, extended), llm.calls)


def read_descriptions(config: ClassifyConfig, class_names: list[str]) -> DescriptionBook | None:
    """The description file's book for these classes (None for "llm" and "world"), read before
    any model loads so a missing or mismatched file stops the run at once."""
    if config.descriptions in (LLM_DESCRIPTIONS, WORLD_TASK):
        return None
    # Matched by class name: the file's indices may count classes in another order.
    listed = read_class_list(config.description_classes) if config.description_classes else None
    return read_fudd_file(config.descriptions, class_names, listed)


class Described(BaseModel):
    """The pair descriptions a run uses, and the pairs that failed, with why."""

    book: DescriptionBook
    failures: dict[str, str] = Field(default_factory=dict)


def describe_confusable_pairs(
    config: ClassifyConfig,
    class_names: list[str],
    pairs: list[tuple[int, int]],
    settings: Settings,
    context: str,
    from_file: DescriptionBook | None,
) -> Counted[Described]:
    """Descriptions of the pairs that share an ambiguity set: from the user's file, the
    oracle, or the LLM in chunks of pairs that the task runner asks concurrently."""
    if from_file is not None:
        return Counted(Described(book=from_file), 0)
    oracle = description_oracle(config)
    if oracle is not None:
        return Counted(Described(book=oracle.pair_book(class_names, pairs)), 0)
    if config.descriptions != LLM_DESCRIPTIONS:
        raise ValueError(f"No description book for descriptions={config.descriptions!r}.")
    written = in_chunks(
        describe_task,
        pairs,
        config.pairs_per_task,
        "pairs",
        settings=settings,
        context=context,
        class_names=class_names,
        workers=config.workers,
    )
    book = DescriptionBook(class_names=class_names, pairs=written.value.done)
    return Counted(Described(book=book, failures=written.value.failed), written.calls)


@task(
    name="baselines",
    retries=1,
    retry_condition_fn=retry_unless_llm_unavailable,
    cache_policy=NO_CACHE,
)
def baselines_task(
    settings: Settings,
    names: list[str],
    vectors: np.ndarray,
    config: ClassifyConfig,
    context: str,
    fallback: np.ndarray,
) -> Counted[dict[str, tuple[np.ndarray, str]]]:
    """The paper's baselines over all classes: method -> (predicted class per image, note)."""
    encoder, llm = worker_encoder(settings), worker_llm(settings)
    baselines = {
        Method.CLASS_NAME: (
            ZeroShotClassifier(encoder, names, "name").scores(vectors).argmax(1),
            "",
        )
    }
    if config.ensemble:
        ensemble = ZeroShotClassifier(encoder, names, "ensemble80").scores(vectors)
        baselines[Method.ENSEMBLE] = (ensemble.argmax(axis=1), "")
    oracle = description_oracle(config)
    if config.generic and (oracle is not None or config.descriptions == LLM_DESCRIPTIONS):
        generic = (
            oracle.generic(names)
            if oracle is not None
            else describe_classes(llm, context, names, config.workers)
        )
        generic = [[fit_to_context(t, encoder.tokenizer)[0] for t in texts] for texts in generic]
        class_vectors = description_class_vectors(generic, encoder.encode_texts, fallback)
        missing = sum(not texts for texts in generic)
        baselines[Method.GENERIC] = (
            (vectors @ class_vectors.T).argmax(axis=1),
            f"{config.descriptions}; {missing} classes without",
        )
    return Counted(baselines, llm.calls)


@task(name="fuse", cache_policy=NO_CACHE)
def fuse_task(
    first_in_set: np.ndarray, second: np.ndarray, positions: np.ndarray, validation: np.ndarray
) -> FusionRule:
    """Calibrate both passes and choose the fusion weight on the validation images."""
    if len(validation) < 2:  # too few labelled images to choose: the paper's rule
        return FusionRule(weight=1.0)
    return choose_fusion(first_in_set[validation], second[validation], positions[validation])


def encode_dataset(
    settings: Settings, data: LabelledImages, shard_size: int
) -> tuple[ImageEmbeddings, np.ndarray]:
    """The dataset's image embeddings and the label of each encoded image (unreadable images
    are skipped, so labels follow the encoded paths)."""
    embedded = encode_in_shards(settings, {"dataset": data.paths}, shard_size)["dataset"]
    label_of = dict(zip(data.paths, data.labels, strict=True))
    return embedded, np.array([label_of[p] for p in embedded.paths])


class SecondPass(BaseModel, arbitrary_types_allowed=True):
    """The second pass's [n, k] scores from a book, and the descriptions cut to fit CLIP."""

    scores: np.ndarray
    truncated: int


def second_pass(
    vectors: np.ndarray,
    sets: np.ndarray,
    book: DescriptionBook,
    encoder: ClipEncoder,
    fallback: np.ndarray,
) -> SecondPass:
    """Each image against the classes of its ambiguity set, by their descriptions (cut to the
    text encoder's context first; a class with none falls back to its template vector)."""
    truncated = fit_book_to_context(book, encoder.tokenizer)
    scores = second_pass_scores(vectors, sets, book, encoder.encode_texts, fallback)
    return SecondPass(scores=scores, truncated=truncated)


def assemble_result(
    *,
    dataset: str,
    data: LabelledImages,
    embedded: ImageEmbeddings,
    labels: np.ndarray,
    sets: np.ndarray,
    pairs: list[tuple[int, int]],
    described: Described,
    followed: list[str],
    passes: PassPredictions,
    rows: list[tuple[str, np.ndarray, str]],
    split: tuple[np.ndarray, np.ndarray],
    fusion: FusionRule,
    truncated: int,
    pair_calls: int,
    llm_calls: int,
    provenance: Provenance,
) -> ClassifyResult:
    """The run's result: accuracies on the test split with their evidence, what changed."""
    names, (validation, test) = data.class_names, split
    chance = chance_level(labels[test], names) if len(test) else None
    methods = method_accuracies(rows, labels, test, chance)
    flagged = [m.method for m in methods if m.no_better_than_chance]
    warnings = [chance_warning(flagged, chance)] if chance else []
    warnings += collapse_warnings({m: p[test] for m, p, _ in rows}, labels[test], names)
    fixed, broken = changed_examples(embedded.paths, labels, passes.first, passes.fused, names)
    return ClassifyResult(
        dataset=dataset,
        class_names=names,
        images=len(labels),
        skipped=embedded.skipped,
        k=sets.shape[1],
        pairs_occurring=len(pairs),
        pairs_possible=len(names) * (len(names) - 1) // 2,
        pairs_described=sum(bool(described.book.pairs.get(p)) for p in pairs),
        llm_calls_pairs=pair_calls,
        llm_calls=llm_calls,
        description_failures=described.failures,
        followed_up=followed,
        truncated_descriptions=truncated,
        fusion=fusion,
        methods=methods,
        validation_images=len(validation),
        test_images=len(test),
        confused=confused_pairs(labels, passes.first, names),
        changed_by="fusion",
        fixed=fixed,
        broken=broken,
        predictions=[
            ImagePrediction(
                path=path,
                truth=names[labels[i]],
                ambiguity_set=[names[c] for c in sets[i]],
                first_pass=names[passes.first[i]],
                fudd=names[passes.fudd[i]],
                fused=names[passes.fused[i]],
            )
            for i, path in enumerate(embedded.paths)
        ],
        chance=chance,
        warnings=[w for w in warnings if w],
        provenance=provenance,
    )


@flow(name="classify", task_runner=make_task_runner("thread", DEFAULT_THREADS))
def classify(
    dataset: str | LabelledImages,
    classes: list[str] | None = None,
    settings: Settings | None = None,
    config: ClassifyConfig | None = None,
    output: str | None = None,
) -> ClassifyResult:
    """Zero-shot classification with FuDD's differential descriptions and score fusion.

    first pass (top-k ambiguity sets) -> describe the pairs that occur -> second pass ->
    fusion chosen on a validation split -> accuracy of every method on the test split. The
    world task runs on the world CLIP unless ``settings`` name another.
    """
    settings = dataset_settings(dataset, settings or load_settings())
    config = config or ClassifyConfig()
    if output:
        check_report_folder(output)  # a bad -o fails now, not after the run
    data = (
        dataset if isinstance(dataset, LabelledImages) else load_dataset(dataset, settings, classes)
    )
    data.check()
    from_file = read_descriptions(config, data.class_names)
    steps = Steps(
        "load the models",
        "encode the images",
        "first pass",
        "describe the confusable pairs",
        "second pass and fusion",
        "baselines",
        "write the report",
    )
    tally = CallTally()  # LLM calls made inside tasks, perhaps in other processes
    names, context = data.class_names, config.context or data.context

    steps.start("load the models")
    encoder, llm = worker_encoder(settings), worker_llm(settings)
    steps.start("encode the images")
    embedded, labels = encode_dataset(settings, data, config.shard_size)
    steps.start("first pass")
    first = ZeroShotClassifier(encoder, names, config.templates)
    first_scores = first.scores(embedded.vectors)
    sets = ambiguity_sets(first_scores, config.k)
    pairs = occurring_pairs(sets)
    steps.start("describe the confusable pairs")
    asked = describe_confusable_pairs(config, names, pairs, settings, context, from_file)
    described = tally.take(asked)
    steps.start("second pass and fusion")
    validation, test = validation_split(len(labels), config.validation_fraction, config.seed)
    second = second_pass(embedded.vectors, sets, described.book, encoder, first.class_vectors)
    book, followed, truncated, before_follow_up = described.book, [], second.truncated, None
    if config.follow_up and config.descriptions == LLM_DESCRIPTIONS and len(validation):
        # Pairs still confused on the validation images only: the test split stays unseen.
        before = chosen_in_sets(second.scores, sets)
        confused = follow_up_pairs(labels, before, validation, names, config.follow_up)
        book, followed = tally.take(follow_up_task(settings, context, book, confused))
        if followed:
            second = second_pass(embedded.vectors, sets, book, encoder, first.class_vectors)
            truncated, before_follow_up = truncated + second.truncated, before
    fusion = fuse_task(
        scores_in_sets(first_scores, sets),
        second.scores,
        positions_in_sets(sets, labels),
        validation,
    )
    passes = predict_passes(first_scores, sets, second.scores, fusion, before_follow_up)
    steps.start("baselines")
    baselines = tally.take(
        baselines_task(settings, names, embedded.vectors, config, context, first.class_vectors)
    )
    rows = method_rows(baselines, passes, labels, fusion, first_pass_label(config.templates))
    wrote = config.descriptions == LLM_DESCRIPTIONS  # the LLM wrote descriptions (and generic ones)
    result = assemble_result(
        dataset=dataset if isinstance(dataset, str) else "in-memory",
        data=data,
        embedded=embedded,
        labels=labels,
        sets=sets,
        pairs=pairs,
        described=described,
        followed=followed,
        passes=passes,
        rows=rows,
        split=(validation, test),
        fusion=fusion,
        truncated=truncated,
        pair_calls=asked.calls,
        llm_calls=tally.calls,
        provenance=Provenance(
            clip=settings.clip,
            clip_weights=encoder.model_identity,
            llm=llm.identity if wrote else None,
            llm_weights=llm_weights(settings) if wrote else None,
            settings=changed_settings(settings),
        ),
    )

    steps.start("write the report")
    title = f"Zero-shot classification with differential descriptions: {result.dataset}"
    report = Report(
        workflow="classify",
        title=title,
        run_title=f"{result.dataset} ({len(names)} classes)",
        table_name="accuracy",
        table=[m.model_dump() for m in result.methods],
        markdown=to_markdown(title, result),
        # The descriptions used, in FuDD's format, are part of the report.
        extra_files={DESCRIPTIONS_FILE: fudd_file_text(book.only(pairs))},
    )
    publish_report(result, report, lambda: to_html(title, result), output, settings.cache_dir)
    return result
