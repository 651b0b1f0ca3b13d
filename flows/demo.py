"""The demo: every workflow end to end on the embedded defaults, offline."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from pydantic import BaseModel

from clipflows.components.classification.descriptions import read_fudd_file
from clipflows.components.classification.report import MethodAccuracy
from clipflows.components.set_difference.evaluation import Evaluation, evaluate
from clipflows.components.set_difference.ranking import HypothesisScore
from clipflows.components.settings import Settings, load_settings, world_unless_named
from clipflows.components.world.class_task import world_class_task
from clipflows.components.world.evaluation import WorldAccuracy, evaluate_world, held_out_set
from clipflows.components.world.scenes import WorldConfig
from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, world_judge, write_pair
from clipflows.components.world.vocabulary import WORLD_VOCABULARY
from clipflows.flows.classify import DESCRIPTIONS_FILE, ClassifyConfig, ClassifyResult, classify
from clipflows.flows.runtime.worker_models import worker_encoder, worker_llm
from clipflows.flows.set_difference import set_difference
from clipflows.flows.train_clip import world_clip_task


class SetDifferenceDemo(BaseModel):
    pair: str
    truth: str
    top: list[HypothesisScore]
    evaluation: Evaluation
    report: str | None


class DescribedPair(BaseModel):
    """One attribute on which the descriptions tell two classes apart, as written."""

    classes: tuple[str, str]
    attribute: str
    descriptions: tuple[str, str]


class ClassificationDemo(BaseModel):
    task: str
    descriptions: str
    classes: int
    k: int
    pairs_occurring: int
    pairs_possible: int
    llm_calls: int
    methods: list[MethodAccuracy]
    example: DescribedPair | None  # for the pair the first pass confused most
    report: str | None


class SeparationDemo(BaseModel):
    query: str
    mixture: str
    separated: str
    residual: str
    figure: str
    si_sdr_improvement: float  # dB, this example, against the held-out source the query names
    held_out_si_sdr_improvement: float  # dB, mean over held-out mixtures (both sources asked)
    held_out_mixtures: int


class MusicPick(BaseModel):
    video: str
    top_tracks: list[str]
    top_moods: list[str]


class DescribedTrack(BaseModel):
    track: str
    tags: str
    description: str


class MusicDemo(BaseModel):
    tracks: int
    description_failures: int
    examples: list[DescribedTrack]  # one track of each of a few moods, as the LLM described it
    model_dir: str
    video_recall_at_10: dict[str, float]  # model -> held-out recall@10 of video-only queries
    median_rank: dict[str, float]  # the same, median rank of the paired clip
    picks: list[MusicPick]  # for each held-out sample video, the three tracks recommended


class DemoResult(BaseModel):
    clip_spec: str
    reports: str  # the folder of the demo's report folders (one per run)
    world: WorldAccuracy
    set_difference: SetDifferenceDemo
    classification: list[ClassificationDemo]
    separation: SeparationDemo
    music: MusicDemo
    llm: str  # the LLM every LLM step used
    llm_seconds: float | None  # time it spent answering in this run (embedded backend only)
    llm_tokens: int | None  # tokens it generated in this run (embedded backend only)


def reports_dir(output: Path) -> Path:
    """Where the demo writes its reports, a folder per run."""
    return output / "reports"


@task(name="world-zero-shot")
def world_zero_shot_task(settings: Settings) -> WorldAccuracy:
    """Zero-shot colour x shape accuracy of a CLIP on held-out world images."""
    encoder = worker_encoder(settings)  # the one the demo's flows use in this process
    folder = held_out_set(settings.cache_dir / "world-eval")
    return evaluate_world(encoder, folder)


def set_difference_demo(settings: Settings, output: Path) -> SetDifferenceDemo:
    """Two world sets that differ by colour: does the top hypothesis name it?"""
    pair = WORLD_SET_PAIRS[0]
    set_a, set_b = write_pair(pair, settings.cache_dir / "world-sets")
    result = set_difference(
        str(set_a),
        str(set_b),
        settings=settings,
        names=("red set", "blue set"),
        vocabulary=WORLD_VOCABULARY,
        vocabulary_candidates=True,
        output=str(reports_dir(output) / pair.name),
    )
    evaluation = evaluate(result.ranking, world_judge(pair))
    return SetDifferenceDemo(
        pair=pair.name,
        truth=pair.truth,
        top=result.ranking[:5],
        evaluation=evaluation,
        report=result.report.get("report.html"),
    )


def confused_pair_example(result: ClassifyResult) -> DescribedPair | None:
    """The first description written for the pair the first pass confused most (read back from
    the run's description file), so a person sees what the second pass was given."""
    path = result.report.get(DESCRIPTIONS_FILE)
    if path is None or not Path(path).is_file():
        return None
    book = read_fudd_file(path, result.class_names)
    order = [(c.class_a, c.class_b) for c in result.confused]
    order += [(book.class_names[i], book.class_names[j]) for i, j in sorted(book.pairs)]
    for a, b in order:
        entries = book.entries_for(a, b)
        if entries:
            first = entries[0]
            return DescribedPair(
                classes=(a, b),
                attribute=first.attr_type,
                descriptions=(first.description_a, first.description_b),
            )
    return None


def classification_demo(settings: Settings, output: Path) -> list[ClassificationDemo]:
    """World classes named by colour and an invented shape noun ("red coin"): ambiguous to
    CLIP until described. Oracle descriptions on all 24 classes, then the LLM's own
    descriptions on the 8 red and blue classes (fusion guards the result from a weak model)."""
    runs = [
        ("24 world classes", "world", WorldConfig(), 5, 480),
        ("8 world classes (red, blue)", "llm", WorldConfig(colours=["red", "blue"]), 4, 160),
    ]
    demos = []
    for name, descriptions, world, k, count in runs:
        folder = settings.cache_dir / "world-classes" / "-".join(world.colours)
        report = reports_dir(output) / f"classify-{descriptions}-{len(world.colours)}"
        result = classify(
            world_class_task(folder, count, world),
            settings=settings,
            config=ClassifyConfig(descriptions=descriptions, k=k),
            output=str(report),
        )
        demos.append(
            ClassificationDemo(
                task=name,
                descriptions=descriptions,
                classes=len(result.class_names),
                k=result.k,
                pairs_occurring=result.pairs_occurring,
                pairs_possible=result.pairs_possible,
                llm_calls=result.llm_calls,
                methods=result.methods,
                example=confused_pair_example(result),
                report=result.report.get("report.html"),
            )
        )
    return demos


HELD_OUT_MIXTURES = 24


def separation_demo(settings: Settings, output: Path) -> SeparationDemo:
    """A held-out dog recording mixed with held-out violin; ask for the dog."""
    import numpy as np

    from clipflows.components.audio import load_audio
    from clipflows.components.separation.evaluation import model_estimates, score, si_sdr
    from clipflows.components.separation.inference import Separator
    from clipflows.components.separation.mixtures import demo_mixture, held_out_mixtures
    from clipflows.components.separation.query_encoders import query_encoder
    from clipflows.components.separation.sources import build_sources
    from clipflows.components.separation.store import DEFAULT_SEPARATOR, ensure_separator
    from clipflows.components.separation.training import load_separator
    from clipflows.flows.separation import separate

    folder = output / "demo-separation"
    mixture, dog = demo_mixture(
        folder, DEFAULT_SEPARATOR.sources, DEFAULT_SEPARATOR.audio, settings.cache_dir
    )
    query = "dog barking"
    result = separate(str(mixture), query, str(folder / "dog.wav"), settings=settings)
    rate = DEFAULT_SEPARATOR.audio.sample_rate
    estimate = load_audio(result.separated, rate)[: len(dog)]
    mix = load_audio(mixture, rate)[: len(dog)]
    gain = si_sdr(estimate[None], dog[None])[0] - si_sdr(mix[None], dog[None])[0]
    # One example varies with the trained model; the mean over held-out mixtures is the measure.
    trained, config = load_separator(ensure_separator(settings))
    splits = build_sources(config.sources, config.audio.sample_rate, settings.cache_dir)
    queries = query_encoder(config.query_encoder, settings).encode_texts([s.query for s in splits])
    mixtures = held_out_mixtures(splits, config.audio.clip_samples, HELD_OUT_MIXTURES)
    estimates = model_estimates(Separator(trained, config.audio), mixtures, queries)
    held_out = score("text-queried", estimates, mixtures, [s.name for s in splits])
    return SeparationDemo(
        query=query,
        mixture=str(mixture),
        separated=result.separated,
        residual=result.residual,
        figure=result.figure,
        si_sdr_improvement=float(np.round(gain, 2)),
        held_out_si_sdr_improvement=round(held_out.si_sdr_improvement, 2),
        held_out_mixtures=len(mixtures),
    )


def music_demo(settings: Settings, output: Path) -> MusicDemo:
    """Describe the packaged tracks, train the video -> music model, recommend for samples."""
    from clipflows.components.music.library import LibraryTrack, read_tracks
    from clipflows.components.music.tracks import packaged_tracks_dir
    from clipflows.flows.music_library import describe_library
    from clipflows.flows.music_retrieval import recommend, sample_videos, train_music_retrieval

    library = output / "music-library"
    described = describe_library(str(packaged_tracks_dir()), str(library), settings)
    trained = train_music_retrieval(
        str(library), str(output / "music-retrieval"), settings=settings
    )
    model_dir = Path(trained.model_dir)
    picks = []
    for video in sample_videos(model_dir):
        ranked = recommend(str(video), k=3, model_dir=str(model_dir), settings=settings)
        picks.append(
            MusicPick(
                video=video.name,
                top_tracks=[Path(r.track.path).stem for r in ranked.recommendations],
                top_moods=[r.track.mood or "" for r in ranked.recommendations],
            )
        )
    video_scores = {name: s["video"] for name, s in trained.scores.items()}
    video_scores["random"] = trained.scores["trained"]["chance"]
    first_of_mood: dict[str | None, LibraryTrack] = {}
    for track in read_tracks(library):
        if track.path not in described.description_failures:
            first_of_mood.setdefault(track.mood, track)
    return MusicDemo(
        tracks=described.tracks,
        description_failures=len(described.description_failures),
        examples=[
            DescribedTrack(track=Path(t.path).stem, tags=t.tags_text(), description=t.description)
            for t in list(first_of_mood.values())[:3]
        ],
        model_dir=str(model_dir),
        video_recall_at_10={k: round(v.recall[10], 3) for k, v in video_scores.items()},
        median_rank={k: v.median_rank for k, v in video_scores.items()},
        picks=picks,
    )


@flow(name="demo")
def demo_flow(settings: Settings | None = None, output: str | None = None) -> DemoResult:
    """The world CLIP's zero-shot accuracy, a set-difference run on world sets, zero-shot
    classification with differential descriptions on confusable world classes, and a
    text-queried separation of real sounds, and music for (synthetic) video.

    What a person looks at (reports, separated audio, the music library and model) goes under
    ``output`` (default: the cache dir, where the web app finds the music model); the inputs
    and trained models it reuses stay in the cache dir, keyed by their configs. Its images are
    world renders, so it runs on the world CLIP unless ``settings`` name another explicitly."""
    settings = world_unless_named(settings or load_settings())
    root = Path(output) if output else settings.cache_dir
    if settings.clip == "world":
        settings = settings.model_copy(update={"clip": "local-dir:" + world_clip_task(settings)})
    llm = worker_llm(settings)  # the one every step shares in this process (loaded on first use)
    busy = getattr(llm.chat_model, "busy_seconds", None)
    tokens = getattr(llm.chat_model, "generated_tokens", None)
    runs = {
        "world": world_zero_shot_task(settings),
        "set_difference": set_difference_demo(settings, root),
        "classification": classification_demo(settings, root),
        "separation": separation_demo(settings, root),
        "music": music_demo(settings, root),
    }
    return DemoResult(
        clip_spec=settings.clip,
        reports=str(reports_dir(root)),
        llm=llm.identity,
        llm_seconds=None if busy is None else round(llm.chat_model.busy_seconds - busy, 1),
        llm_tokens=None if tokens is None else llm.chat_model.generated_tokens - tokens,
        **runs,
    )
