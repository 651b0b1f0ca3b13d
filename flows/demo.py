"""The demo: every workflow end to end on the embedded defaults, offline."""

from __future__ import annotations

from prefect import flow, task
from pydantic import BaseModel

from clipflows.components.captioning import WORLD_VOCABULARY
from clipflows.components.classify_report import MethodAccuracy
from clipflows.components.clip import ClipEncoder
from clipflows.components.diff_eval import Evaluation, evaluate, keyword_judge
from clipflows.components.ranking import HypothesisScore
from clipflows.components.settings import Settings, load_settings
from clipflows.components.world import WorldConfig
from clipflows.components.world_classes import world_class_task
from clipflows.components.world_eval import WorldAccuracy, evaluate_world, held_out_set
from clipflows.components.world_sets import WORLD_SET_PAIRS, write_pair

from .classify import ClassifyConfig, classify
from .set_difference import set_difference
from .train_clip import world_clip_task


class SetDifferenceDemo(BaseModel):
    pair: str
    truth: str
    top: list[HypothesisScore]
    evaluation: Evaluation
    report: str | None


class ClassificationDemo(BaseModel):
    task: str
    descriptions: str
    classes: int
    k: int
    pairs_occurring: int
    pairs_possible: int
    llm_calls: int
    methods: list[MethodAccuracy]
    report: str | None


class SeparationDemo(BaseModel):
    query: str
    mixture: str
    separated: str
    residual: str
    figure: str
    si_sdr_improvement: float  # dB, against the held-out source the query names


class MusicPick(BaseModel):
    video: str
    top_tracks: list[str]
    top_moods: list[str]


class MusicDemo(BaseModel):
    tracks: int
    description_failures: int
    model_dir: str
    video_recall_at_10: dict[str, float]  # model -> held-out recall@10 of video-only queries
    median_rank: dict[str, float]  # the same, median rank of the paired clip
    picks: list[MusicPick]  # for each held-out sample video, the three tracks recommended


class DemoResult(BaseModel):
    clip_spec: str
    world: WorldAccuracy
    set_difference: SetDifferenceDemo
    classification: list[ClassificationDemo]
    separation: SeparationDemo
    music: MusicDemo


@task(name="world-zero-shot")
def world_zero_shot_task(settings: Settings) -> WorldAccuracy:
    """Zero-shot colour x shape accuracy of a CLIP on held-out world images."""
    encoder = ClipEncoder(settings=settings)
    folder = held_out_set(settings.cache_dir / "world-eval")
    return evaluate_world(encoder, folder)


def set_difference_demo(settings: Settings) -> SetDifferenceDemo:
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
        output=str(settings.cache_dir / "reports" / pair.name),
    )
    evaluation = evaluate(result.ranking, keyword_judge(pair.words_a, pair.words_b))
    return SetDifferenceDemo(
        pair=pair.name,
        truth=pair.truth,
        top=result.ranking[:5],
        evaluation=evaluation,
        report=result.report.get("report.html"),
    )


def classification_demo(settings: Settings) -> list[ClassificationDemo]:
    """World classes named by colour and an invented shape noun ("red coin"): ambiguous to
    CLIP until described. Oracle descriptions on all 24 classes, then the embedded LLM's own
    descriptions on the 8 red and blue classes (a weak 135M model: fusion guards the result)."""
    runs = [
        ("24 world classes", "world", WorldConfig(), 5, 480),
        ("8 world classes (red, blue)", "llm", WorldConfig(colours=["red", "blue"]), 4, 160),
    ]
    demos = []
    for name, descriptions, world, k, count in runs:
        folder = settings.cache_dir / "world-classes" / "-".join(world.colours)
        output = settings.cache_dir / "reports" / f"classify-{descriptions}-{len(world.colours)}"
        result = classify(
            world_class_task(folder, count, world),
            settings=settings,
            config=ClassifyConfig(descriptions=descriptions, k=k),
            output=str(output),
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
                report=result.report.get("report.html"),
            )
        )
    return demos


def separation_demo(settings: Settings) -> SeparationDemo:
    """A held-out dog recording mixed with held-out violin; ask for the dog."""
    import numpy as np

    from clipflows.components.audio import load_audio
    from clipflows.components.separation_eval import si_sdr
    from clipflows.components.separator_store import DEFAULT_SEPARATOR

    from .separation import sample_mixture, separate

    folder = settings.cache_dir / "demo-separation"
    mixture, dog = sample_mixture(folder)
    query = "dog barking"
    result = separate(str(mixture), query, str(folder / "dog.wav"), settings=settings)
    rate = DEFAULT_SEPARATOR.audio.sample_rate
    estimate = load_audio(result.separated, rate)[: len(dog)]
    mix = load_audio(mixture, rate)[: len(dog)]
    gain = si_sdr(estimate[None], dog[None])[0] - si_sdr(mix[None], dog[None])[0]
    return SeparationDemo(
        query=query,
        mixture=str(mixture),
        separated=result.separated,
        residual=result.residual,
        figure=result.figure,
        si_sdr_improvement=float(np.round(gain, 2)),
    )


def music_demo(settings: Settings) -> MusicDemo:
    """Describe the packaged tracks, train the video -> music model, recommend for samples."""
    from pathlib import Path

    from clipflows.components.music_data import packaged_tracks_dir

    from .music_library import describe_library
    from .music_retrieval import recommend, sample_videos, train_music_retrieval

    library = settings.cache_dir / "music-library"
    described = describe_library(str(packaged_tracks_dir()), str(library), settings)
    trained = train_music_retrieval(str(library), settings=settings)
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
    return MusicDemo(
        tracks=described.tracks,
        description_failures=len(described.description_failures),
        model_dir=str(model_dir),
        video_recall_at_10={k: round(v.recall[10], 3) for k, v in video_scores.items()},
        median_rank={k: v.median_rank for k, v in video_scores.items()},
        picks=picks,
    )


@flow(name="demo")
def demo_flow(settings: Settings | None = None) -> DemoResult:
    """The world CLIP's zero-shot accuracy, a set-difference run on world sets, zero-shot
    classification with differential descriptions on confusable world classes, and a
    text-queried separation of real sounds, and music for (synthetic) video."""
    settings = settings or load_settings()
    if settings.clip == "world":
        settings = settings.model_copy(update={"clip": "local-dir:" + world_clip_task(settings)})
    return DemoResult(
        clip_spec=settings.clip,
        world=world_zero_shot_task(settings),
        set_difference=set_difference_demo(settings),
        classification=classification_demo(settings),
        separation=separation_demo(settings),
        music=music_demo(settings),
    )
