"""Describe a music library as a Prefect flow: tag -> describe by analogy -> index.

Tags (by file content) and descriptions (by prompt) are cached, so a rerun, or a library that
shares tracks with another, costs neither tagger nor LLM time. Descriptions are written by
concurrent tasks, a few tracks each, on the flow's task runner.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from clipflows.agents.llm import LLMOutputError
from clipflows.agents.music_describer import DescriberConfig, describe_track, load_analogies
from clipflows.components.audio import audio_duration
from clipflows.components.cache import JsonCache, sha256_file
from clipflows.components.errors import EmptyInputError
from clipflows.components.music.library import LibraryTrack, MusicLibrary
from clipflows.components.music.tagger import MusicnnTagger, TrackTags
from clipflows.components.music.tracks import list_tracks
from clipflows.components.sentence import SentenceEncoder
from clipflows.components.settings import Settings, load_settings
from clipflows.flows.runtime.chunks import Written, in_chunks
from clipflows.flows.runtime.deployments import DEFAULT_THREADS, make_task_runner
from clipflows.flows.runtime.llm_calls import CallTally, Counted
from clipflows.flows.runtime.progress import Steps, log_progress
from clipflows.flows.runtime.retries import retry_unless_llm_unavailable
from clipflows.flows.runtime.worker_models import worker_llm


class DescribeLibraryResult(BaseModel):
    tracks: int
    skipped: dict[str, str] = Field(default_factory=dict)
    description_failures: dict[str, str] = Field(default_factory=dict)
    tagger_runs: int
    llm_calls: int
    index_dir: str


@task(name="tag-tracks", retries=1, cache_policy=NO_CACHE)
def tag_task(tagger: MusicnnTagger, paths: list[Path]) -> dict[str, TrackTags | str]:
    """Tag probabilities and the tagger's embedding for every track (cached by content)."""
    return tagger.tag(paths)


@task(
    name="describe-tracks",
    retries=1,
    retry_condition_fn=retry_unless_llm_unavailable,
    cache_policy=NO_CACHE,
)
def describe_task(
    settings: Settings, tags: dict[str, TrackTags], config: DescriberConfig
) -> Counted[Written]:
    """Descriptions and failures, by track, for a few tracks, with the LLM calls: one
    description per track from its tags and the closest human-written examples; a track whose
    answer never validates is listed, not fatal."""
    llm, bank = worker_llm(settings), load_analogies()
    progress, out, failed = log_progress(f"describe {len(tags)} tracks"), {}, {}
    for done, (path, track) in enumerate(tags.items(), start=1):
        try:
            out[path] = describe_track(llm, track.tags, bank, config)
        except LLMOutputError as error:
            failed[path] = str(error)
        progress(done, len(tags))
    return Counted(Written(out, failed), llm.calls)


@flow(name="describe-library", task_runner=make_task_runner("thread", DEFAULT_THREADS))
def describe_library(
    folder: str,
    index_dir: str | None = None,
    settings: Settings | None = None,
    describer: DescriberConfig | None = None,
    tracks_per_task: int = 4,
) -> DescribeLibraryResult:
    """Tag, describe and index every audio file under ``folder`` (sub-folders name moods).

    Descriptions are asked ``tracks_per_task`` tracks to a task, the tasks concurrently."""
    if tracks_per_task < 1:
        raise ValueError(f"tracks_per_task must be at least 1, not {tracks_per_task}.")
    settings = settings or load_settings()
    root = Path(folder)
    paths = list_tracks(root) if root.is_dir() else []
    if not paths:
        raise EmptyInputError(f"No audio files (wav, flac, ogg, opus, mp3) under {folder}.")
    steps = Steps("tag the tracks", "describe the tracks", "index the library")
    steps.start("tag the tracks")
    tagger = MusicnnTagger(cache=JsonCache(settings.cache_dir / "music-tags"))
    tagged = tag_task(tagger, paths)
    good = {p: t for p, t in tagged.items() if isinstance(t, TrackTags)}
    skipped = {p: t for p, t in tagged.items() if isinstance(t, str)}
    if not good:
        raise EmptyInputError(
            f"No track under {folder} could be tagged: {list(skipped.values())[:3]}"
        )
    steps.start("describe the tracks")
    tally = CallTally()
    written = tally.take(
        in_chunks(
            describe_task,
            good,
            tracks_per_task,
            "tags",
            settings=settings,
            config=describer or DescriberConfig(),
        )
    )
    tracks = [
        LibraryTrack(
            path=path,
            sha256=sha256_file(path),
            duration_s=audio_duration(path),
            mood=Path(path).parent.name if Path(path).parent != root else None,
            tags=tags.tags,
            top_tags=tags.top(6),
            # Without a valid description, the tags stand in for one (listed in the result).
            description=written.done.get(path) or "Music tagged " + ", ".join(tags.top(6)),
            audio_embedding=tags.embedding,
        )
        for path, tags in good.items()
    ]
    steps.start("index the library")
    library = MusicLibrary.from_tracks(tracks, SentenceEncoder(settings))
    target = Path(index_dir) if index_dir else settings.cache_dir / "music-library"
    library.save(target)
    create_table_artifact(
        key="music-library",
        table=[
            {"track": Path(t.path).name, "tags": t.tags_text(), "description": t.description}
            for t in tracks
        ],
    )
    return DescribeLibraryResult(
        tracks=len(tracks),
        skipped=skipped,
        description_failures=written.failed,
        tagger_runs=tagger.runs,
        llm_calls=tally.calls,
        index_dir=str(target),
    )
