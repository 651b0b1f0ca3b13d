"""Music for video as Prefect flows: train the trimodal model on a paired set, then recommend.

``train_music_retrieval`` builds the synthetic paired set from a described library (cached by
everything that determines it), trains with text dropout (resuming from checkpoints), scores
held-out tracks against chance, the untrained model and a model trained without text dropout,
and writes a bundle that ``recommend`` searches with a video, a text wish, or both.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from clipflows.components.cache import JsonCache, stable_hash
from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.errors import ClipflowsError, EmptyInputError, MissingWeightsError
from clipflows.components.files import write_bytes_whole, write_text_whole
from clipflows.components.music.evaluation import RankScores
from clipflows.components.music.generation import GeneratedClip, MusicGenerator
from clipflows.components.music.library import MusicLibrary
from clipflows.components.music.paired_set import PairedSet, build_paired_set
from clipflows.components.music.recommender import (
    INDEX,
    MusicRecommender,
    Recommendation,
    write_library_index,
)
from clipflows.components.music.retrieval_evaluation import evaluate_retrieval
from clipflows.components.music.synthetic_videos import RENDER_VERSION, PairedSetConfig, write_video
from clipflows.components.music.tagger import MusicnnTagger, TrackTags
from clipflows.components.music.training import (
    RetrievalTrainConfig,
    new_model,
    train_retrieval,
)
from clipflows.components.music.video import VideoConfig, VideoEncoder, read_video_frames
from clipflows.components.reports import check_report_folder, markdown_table, write_report
from clipflows.components.sentence import SentenceEncoder
from clipflows.components.settings import Settings, load_settings, world_unless_named
from clipflows.flows.runtime.progress import Steps, log_progress


class MusicRetrievalConfig(BaseModel):
    paired: PairedSetConfig = Field(default_factory=PairedSetConfig)
    video: VideoConfig = Field(default_factory=VideoConfig)
    training: RetrievalTrainConfig = Field(default_factory=RetrievalTrainConfig)
    # Also train a twin without text dropout, to show what the dropout does.
    compare_dropout: bool = True


class MusicRetrievalResult(BaseModel):
    model_dir: str
    tracks: dict[str, int]  # split -> tracks
    clips: dict[str, int]  # split -> clips
    videos_built: bool  # False when the paired set came from the cache
    videos_rendered: int  # videos drawn by this run (an interrupted build's are reused)
    steps_run: int  # training steps taken by this run (0 when the model was already trained)
    scores: dict[str, dict[str, RankScores]]  # model -> query mode -> scores


def default_model_dir(settings: Settings) -> Path:
    return settings.cache_dir / "music-retrieval"


def _library(library_dir: str | None, settings: Settings) -> MusicLibrary:
    folder = Path(library_dir) if library_dir else settings.cache_dir / "music-library"
    if not (folder / "tracks.json").is_file():
        raise ClipflowsError(
            f"No described music library in {folder}: run `clipflows music-describe -o {folder}` "
            "first (it tags and describes the tracks)."
        )
    return MusicLibrary.load(folder, SentenceEncoder(settings))


@task(name="build-paired-set", cache_policy=NO_CACHE)
def paired_set_task(
    library: MusicLibrary, config: MusicRetrievalConfig, settings: Settings
) -> tuple[PairedSet, bool, str]:
    """(set, whether it was built now, the video encoder's identity): built once per library
    and config, then read from the cache."""
    tagger = MusicnnTagger(cache=JsonCache(settings.cache_dir / "music-tags"))
    video_encoder = VideoEncoder(ClipEncoder(settings=settings), config.video)
    key = stable_hash(
        {
            "paired": config.paired.model_dump(),
            "render": RENDER_VERSION,
            "video": video_encoder.identity,
            "tagger": tagger.identity,
            "tracks": [(t.sha256, t.mood, t.description) for t in library.tracks],
        }
    )[:16]
    folder = settings.cache_dir / "music-video" / key
    cached = PairedSet.load(folder)
    if cached is not None:
        return cached, False, video_encoder.identity
    tagged = tagger.tag([Path(t.path) for t in library.tracks])
    tags = {p: t for p, t in tagged.items() if isinstance(t, TrackTags)}
    paired = build_paired_set(
        library.tracks,
        tags,
        video_encoder,
        library.encoder,
        config.paired,
        folder,
        log_progress("render and encode videos"),
    )
    return paired, True, video_encoder.identity


@task(name="train-retrieval", cache_policy=NO_CACHE)
def train_task(paired: PairedSet, config: RetrievalTrainConfig, runs: Path):
    """Contrastive training on the training tracks' videos, in a folder named by the paired
    set and the config, so a rerun resumes its own checkpoint and never another set's."""
    assert paired.folder is not None
    output = runs / stable_hash([paired.folder.name, config.model_dump()])[:16]
    model, result = train_retrieval(
        paired.features("train"), config, output, log_progress("train steps")
    )
    return model, result, output


@flow(name="train-music-retrieval")
def train_music_retrieval(
    library_dir: str | None = None,
    output: str | None = None,
    settings: Settings | None = None,
    config: MusicRetrievalConfig | None = None,
) -> MusicRetrievalResult:
    """Train the video/text -> music model on a described library and score it on held-out tracks.

    Its paired videos are drawn in the world's shapes (no real music videos exist offline), so
    frames are encoded by the world CLIP unless ``settings`` name another."""
    settings = world_unless_named(settings or load_settings())
    config = config or MusicRetrievalConfig()
    library = _library(library_dir, settings)
    steps = Steps("render and encode paired videos", "train", "evaluate and index")
    steps.start("render and encode paired videos")
    paired, built, video_identity = paired_set_task(library, config, settings)
    if not paired.clip_rows("train") or not paired.clip_rows("test"):
        raise EmptyInputError(
            "Music retrieval needs tracks in both splits: give a library with at least two "
            "tracks per mood folder (or per folder, if it is not organised by mood)."
        )
    target = Path(output) if output else default_model_dir(settings)
    # Checkpoints are keyed by set and config, so they live in the cache whatever the output:
    # a model published elsewhere (the demo's, a test's) reuses training already done.
    runs = default_model_dir(settings) / "runs"
    steps.start("train")
    model, trained, run = train_task(paired, config.training, runs)
    steps.start("evaluate and index")
    scores = {
        "trained": evaluate_retrieval(model, paired),
        "untrained": evaluate_retrieval(
            new_model(config.training, paired.features("train")).eval(), paired
        ),
    }
    if config.compare_dropout:
        twin = config.training.model_copy(update={"text_dropout": 0.0, "video_dropout": 0.0})
        without, _, _ = train_task(paired, twin, runs)
        scores["no text dropout"] = evaluate_retrieval(without, paired)
    # An index beside another model would be wrong: remove it, copy, write the index last.
    target.mkdir(parents=True, exist_ok=True)
    (target / INDEX).unlink(missing_ok=True)
    for name in ("trimodal.pt", "trimodal.json"):
        write_bytes_whole((run / name).read_bytes(), target / name)
    write_library_index(model, paired, target, video_identity, config.video)
    copy_samples(paired, target / "samples", config.paired.video_fps)
    split_of = {c.track: c.split for c in paired.clips}
    result = MusicRetrievalResult(
        model_dir=str(target),
        tracks={s: sum(v == s for v in split_of.values()) for s in ("train", "test")},
        clips={s: len(paired.clip_rows(s)) for s in ("train", "test")},
        videos_built=built,
        videos_rendered=paired.rendered,
        steps_run=trained.steps_run,
        scores=scores,
    )
    markdown = scores_markdown(result)
    write_text_whole(markdown, target / "report.md")
    write_text_whole(result.model_dump_json(indent=1), target / "result.json")
    create_markdown_artifact(key="music-retrieval", markdown=markdown)
    return result


def copy_samples(paired: PairedSet, folder: Path, paired_fps: float) -> list[Path]:
    """Held-out videos to try ``recommend`` with, named by mood, track and start time."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for video, clip in paired.sample_videos("test"):
        track = paired.tracks[clip.track]
        name = f"{track.mood or 'track'}-{Path(track.path).stem}-{clip.start_s:.0f}s.mp4"
        # Re-encoded lossy: browsers cannot play the set's lossless H.264.
        frames, _ = read_video_frames(video, VideoConfig(fps=paired_fps, max_frames=4096))
        out.append(write_video(frames, paired_fps, folder / name, lossless=False))
    return out


def sample_videos(model_dir: Path) -> list[Path]:
    """The sample videos ``train_music_retrieval`` left beside a model."""
    return sorted((model_dir / "samples").glob("*.mp4"))


def scores_markdown(result: MusicRetrievalResult) -> str:
    """One table: model x query mode, recall@1/5/10 and median rank on held-out pairs."""
    gallery = next(iter(result.scores["trained"].values())).gallery
    chance = result.scores["trained"]["chance"]
    rows = [("random", "any", chance)] + [
        (model, mode, s)
        for model, by_mode in result.scores.items()
        for mode, s in by_mode.items()
        if mode != "chance"
    ]
    intro = (
        f"Held-out: {result.tracks['test']} tracks, {result.clips['test']} clips "
        f"(each test video queries all {gallery} test clips). Videos are synthetic: drawn from "
        "each clip's measured tempo, loudness and mood."
    )
    table = markdown_table(
        ["model", "query", "R@1", "R@5", "R@10", "median rank"],
        [
            (model, mode, *(f"{s.recall[k]:.3f}" for k in (1, 5, 10)), f"{s.median_rank:.1f}")
            for model, mode, s in rows
        ],
    )
    return "\n".join([intro, "", *table]) + "\n"


class RecommendResult(BaseModel):
    video: str | None
    text: str | None
    recommendations: list[Recommendation]
    generated: GeneratedClip | None = None
    generation_error: str | None = None  # why no clip was generated when one was asked for


@flow(name="recommend-music")
def recommend(
    video: str | None = None,
    text: str | None = None,
    k: int = 5,
    model_dir: str | None = None,
    settings: Settings | None = None,
    generate: bool = False,
    generate_below: float | None = None,
    generator: str = "facebook/musicgen-small",
    generate_seconds: float = 8.0,
    output: str | None = None,
) -> RecommendResult:
    """Ranked library tracks for a video and/or a text wish; with ``generate`` (or when no track
    scores above ``generate_below``), also a MusicGen clip from the wish or the top description.
    A video is encoded by the CLIP the model was trained with (by default the world CLIP)."""
    settings = world_unless_named(settings or load_settings())
    if video is None and not (text or "").strip():
        raise EmptyInputError("Give a video, a text wish, or both.")
    if output:
        check_report_folder(output)  # a bad -o fails now, not after the run
    steps = Steps(
        "load the model",
        *(["encode the video"] if video is not None else []),
        "rank the tracks",
        *(["generate a clip"] if generate or generate_below is not None else []),
    )
    steps.start("load the model")
    recommender = MusicRecommender(Path(model_dir) if model_dir else default_model_dir(settings))
    video_features = None
    if video is not None:
        steps.start("encode the video")
        encoder = VideoEncoder(ClipEncoder(settings=settings), recommender.video_config)
        recommender.check_video_encoder(encoder.identity)
        video_features = encoder.encode(video).pooled
    text_features = (
        SentenceEncoder(settings).encode_texts([text.strip()])[0] if (text or "").strip() else None
    )
    steps.start("rank the tracks")
    ranked = recommender.recommend(video_features, text_features, k)
    generated, generation_error = None, None
    weak = generate_below is not None and (not ranked or ranked[0].score < generate_below)
    if generate or weak:
        steps.start("generate a clip")
        wish = (text or "").strip() or (ranked[0].track.description if ranked else "")
        folder = Path(output) if output else settings.cache_dir / "generated"
        name = f"generated-{stable_hash([video, wish, generator])[:10]}.wav"
        try:
            generated = MusicGenerator(generator).generate(wish, generate_seconds, folder / name)
        except MissingWeightsError as error:  # the ranking is still worth returning
            generation_error = str(error)
    result = RecommendResult(
        video=video,
        text=text,
        recommendations=ranked,
        generated=generated,
        generation_error=generation_error,
    )
    if output:
        write_report(
            Path(output), "music-recommend", {"result.json": result.model_dump_json(indent=1)}
        )
    return result
