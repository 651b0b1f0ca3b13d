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
from prefect.artifacts import create_markdown_artifact, create_table_artifact
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
    DifferentialEntry,
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
    method_accuracies,
    method_rows,
    to_html,
    to_markdown,
)
from clipflows.components.classification.second_pass import (
    FusionRule,
    choose_fusion,
    description_class_vectors,
    occurring_pairs,
    positions_in_sets,
    second_pass_scores,
)
from clipflows.components.clip.text import fit_to_context
from clipflows.components.clip.zeroshot import ZeroShotClassifier, ambiguity_sets
from clipflows.components.images import Skipped
from clipflows.components.provenance import Provenance, changed_settings
from clipflows.components.reports import REPORT_FILES, check_report_folder, write_report
from clipflows.components.settings import Settings, load_settings, world_unless_named
from clipflows.components.world.class_task import (
    world_class_task,
    world_description_book,
    world_generic_descriptions,
)
from clipflows.flows.runtime.chunks import in_chunks
from clipflows.flows.runtime.deployments import DEFAULT_THREADS, make_task_runner
from clipflows.flows.runtime.progress import Steps, log_progress
from clipflows.flows.runtime.retries import retry_unless_llm_unavailable
from clipflows.flows.runtime.runs import record_run
from clipflows.flows.runtime.sharded_encoding import DEFAULT_SHARD_SIZE, encode_in_shards
from clipflows.flows.runtime.worker_models import worker_encoder, worker_llm

DESCRIPTIONS_FILE = "descriptions.json"


class ClassifyConfig(BaseModel):
    """How to classify. ``descriptions``: "llm", "world" (ground-truth oracle, world task only)
    or the path of a FuDD description file; ``description_classes``: the class list (JSON list
    or a name a line) whose order that file's indices count, when FuDD's is not beside it."""

    templates: str | list[str] = "single"
    k: int = Field(default=10, ge=2)
    descriptions: str = "llm"
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
    """ "world", an image folder per class, or a CSV of path,label."""
    if dataset == "world":
        return world_class_task(settings.cache_dir / "world-classes")
    path = Path(dataset)
    if path.suffix.lower() == ".csv":
        return load_labels_csv(path, classes)
    return load_image_folder(path)


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
) -> tuple[dict[tuple[int, int], list[DifferentialEntry]], dict[str, str], int]:
    """LLM descriptions for one chunk of pairs: (entries by pair, failed pairs, LLM calls)."""
    llm = worker_llm(settings)
    book = DescriptionBook(class_names=class_names)
    report = describe_pairs(
        llm, context, book, pairs, workers, log_progress(f"describe {len(pairs)} pairs")
    )
    return book.pairs, report.failed, llm.calls


@task(
    name="follow-up",
    retries=1,
    retry_condition_fn=retry_unless_llm_unavailable,
    cache_policy=NO_CACHE,
)
def follow_up_task(
    settings: Settings, context: str, book: DescriptionBook, pairs: list[ConfusedPair]
) -> tuple[DescriptionBook, list[str], int]:
    """Ask again, for new attributes, about pairs still confused: the book extended (a copy, so
    a task in another process returns it), the pairs extended, and the LLM calls made."""
    llm, book = worker_llm(settings), book.model_copy(deep=True)
    extended = []
    for pair in pairs:
        i, j = book.index(pair.class_a), book.index(pair.class_b)
        tried = book.pairs.get((min(i, j), max(i, j)), [])
        oriented = [e if i < j else e.swapped() for e in tried]
        new = follow_up_pair(llm, context, pair.class_a, pair.class_b, oriented)
        if new:
            book.add(pair.class_a, pair.class_b, oriented + new)
            extended.append(f"{pair.class_a} | {pair.class_b}")
    return book, extended, llm.calls


def read_descriptions(config: ClassifyConfig, class_names: list[str]) -> DescriptionBook | None:
    """The description file's book for these classes (None for "llm" and "world"), read before
    any model loads so a missing or mismatched file stops the run at once."""
    if config.descriptions in ("llm", "world"):
        return None
    # Matched by class name: the file's indices may count classes in another order.
    listed = read_class_list(config.description_classes) if config.description_classes else None
    return read_fudd_file(config.descriptions, class_names, listed)


def _book(
    config: ClassifyConfig,
    data: LabelledImages,
    pairs: list,
    settings: Settings,
    context: str,
    from_file: DescriptionBook | None,
) -> tuple[DescriptionBook, dict[str, str], int]:
    """The description book, the pairs that failed, and the LLM calls it took."""
    if from_file is not None:
        return from_file, {}, 0
    if config.descriptions == "world":
        return world_description_book(data.class_names, pairs), {}, 0
    if config.descriptions == "llm":
        entries, failures, calls = in_chunks(
            describe_task,
            pairs,
            config.pairs_per_task,
            "pairs",
            settings=settings,
            context=context,
            class_names=data.class_names,
            workers=config.workers,
        )
        return DescriptionBook(class_names=data.class_names, pairs=entries), failures, calls
    raise ValueError(f"No description book for descriptions={config.descriptions!r}.")


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
) -> tuple[dict[str, tuple[np.ndarray, str]], int]:
    """The paper's baselines over all classes: method -> (predicted class per image, note), and
    the LLM calls its generic descriptions made."""
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
    if config.generic and config.descriptions in ("llm", "world"):
        generic = (
            world_generic_descriptions(names)
            if config.descriptions == "world"
            else describe_classes(llm, context, names, config.workers)
        )
        generic = [[fit_to_context(t, encoder.tokenizer)[0] for t in texts] for texts in generic]
        class_vectors = description_class_vectors(generic, encoder.encode_texts, fallback)
        missing = sum(not texts for texts in generic)
        baselines[Method.GENERIC] = (
            (vectors @ class_vectors.T).argmax(axis=1),
            f"{config.descriptions}; {missing} classes without",
        )
    return baselines, llm.calls


@task(name="fuse", cache_policy=NO_CACHE)
def fuse_task(
    first_in_set: np.ndarray, second: np.ndarray, positions: np.ndarray, validation: np.ndarray
) -> FusionRule:
    """Calibrate both passes and choose the fusion weight on the validation images."""
    if len(validation) < 2:  # too few labelled images to choose: the paper's rule
        return FusionRule(weight=1.0)
    return choose_fusion(first_in_set[validation], second[validation], positions[validation])


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
    settings = settings or load_settings()
    if dataset == "world":
        settings = world_unless_named(settings)
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
    steps.start("load the models")
    names, context = data.class_names, config.context or data.context
    encoder, llm = worker_encoder(settings), worker_llm(settings)
    steps.start("encode the images")
    embedded = encode_in_shards(settings, {"dataset": data.paths}, config.shard_size)["dataset"]
    label_of = dict(zip(data.paths, data.labels, strict=True))
    labels = np.array([label_of[p] for p in embedded.paths])

    steps.start("first pass")
    first = ZeroShotClassifier(encoder, names, config.templates)
    first_scores = first.scores(embedded.vectors)
    sets = ambiguity_sets(first_scores, config.k)
    pairs = occurring_pairs(sets)
    steps.start("describe the confusable pairs")
    book, failures, pair_calls = _book(config, data, pairs, settings, context, from_file)
    steps.start("second pass and fusion")
    truncated = fit_book_to_context(book, encoder.tokenizer)
    second = second_pass_scores(
        embedded.vectors, sets, book, encoder.encode_texts, first.class_vectors
    )
    first_in_set = np.take_along_axis(first_scores, sets, axis=1)
    validation, test = validation_split(len(labels), config.validation_fraction, config.seed)
    rows = np.arange(len(sets))
    before_follow_up = sets[rows, second.argmax(axis=1)]
    followed: list[str] = []
    follow_up_calls = 0
    if config.follow_up and config.descriptions == "llm" and len(validation):
        # Pairs still confused on the validation images only: the test split stays unseen.
        confused = confused_pairs(
            labels[validation], before_follow_up[validation], names, top=config.follow_up
        )
        book, followed, follow_up_calls = follow_up_task(settings, context, book, confused)
        truncated += fit_book_to_context(book, encoder.tokenizer)
        second = second_pass_scores(
            embedded.vectors, sets, book, encoder.encode_texts, first.class_vectors
        )
    fusion = fuse_task(first_in_set, second, positions_in_sets(sets, labels), validation)
    predicted = {
        "first": first_scores.argmax(axis=1),
        "fudd": sets[rows, second.argmax(axis=1)],
        "fused": sets[rows, fusion.fuse(first_in_set, second).argmax(axis=1)],
    }
    if followed:
        predicted["before follow-up"] = before_follow_up
    steps.start("baselines")
    baselines, baseline_calls = baselines_task(
        settings, names, embedded.vectors, config, context, first.class_vectors
    )
    fixed, broken = changed_examples(
        embedded.paths, labels, predicted["first"], predicted["fused"], names
    )
    rows_by_method = method_rows(
        baselines, predicted, labels, fusion, first_pass_label(config.templates)
    )
    chance = chance_level(labels[test], names) if len(test) else None
    methods = method_accuracies(rows_by_method, labels, test, chance)
    flagged = [m.method for m in methods if m.no_better_than_chance]
    warnings = [chance_warning(flagged, chance)] if chance else []
    warnings += collapse_warnings({m: p[test] for m, p, _ in rows_by_method}, labels[test], names)
    wrote = config.descriptions == "llm"  # the LLM wrote descriptions (and generic ones)
    result = ClassifyResult(
        dataset=dataset if isinstance(dataset, str) else "in-memory",
        class_names=names,
        images=len(labels),
        skipped=embedded.skipped,
        k=sets.shape[1],
        pairs_occurring=len(pairs),
        pairs_possible=len(names) * (len(names) - 1) // 2,
        pairs_described=sum(bool(book.pairs.get(p)) for p in pairs),
        llm_calls_pairs=pair_calls,
        llm_calls=pair_calls + follow_up_calls + baseline_calls,
        description_failures=failures,
        followed_up=followed,
        truncated_descriptions=truncated,
        fusion=fusion,
        methods=methods,
        validation_images=len(validation),
        test_images=len(test),
        confused=confused_pairs(labels, predicted["first"], names),
        changed_by="fusion",
        fixed=fixed,
        broken=broken,
        predictions=[
            ImagePrediction(
                path=path,
                truth=names[labels[i]],
                ambiguity_set=[names[c] for c in sets[i]],
                first_pass=names[predicted["first"][i]],
                fudd=names[predicted["fudd"][i]],
                fused=names[predicted["fused"][i]],
            )
            for i, path in enumerate(embedded.paths)
        ],
        chance=chance,
        warnings=[w for w in warnings if w],
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
    create_table_artifact(
        key="classify-accuracy", table=[m.model_dump() for m in result.methods], description=title
    )
    markdown = to_markdown(title, result)
    create_markdown_artifact(key="classify-report", markdown=markdown)
    if output:
        # The descriptions used, in FuDD's format, are part of the report.
        used = DescriptionBook(
            class_names=names, pairs={p: book.pairs[p] for p in pairs if book.pairs.get(p)}
        )
        result.report = {n: str(Path(output) / n) for n in (*REPORT_FILES, DESCRIPTIONS_FILE)}
        files = {"result.json": result.model_dump_json(indent=2), "report.md": markdown}
        files["report.html"] = to_html(title, result)
        files[DESCRIPTIONS_FILE] = fudd_file_text(used)
        write_report(Path(output), "classify", files)
        record_run(
            settings.cache_dir, "classify", f"{result.dataset} ({len(names)} classes)", output
        )
    return result
