"""Commands for music: describe a library, search it by text, generate a clip."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from clipflows.components.errors import ClipflowsError, EmptyInputError, InputNotFoundError
from clipflows.components.settings import world_unless_named
from clipflows.flows.cli.common import ConfigOption, console, load_cli_settings
from clipflows.flows.cli.session import flow_session, quiet_libraries


def music_describe(
    folder: Annotated[
        Path | None, typer.Argument(help="Folder of tracks; default: the 28 packaged ones.")
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Index folder.")] = None,
    config: ConfigOption = None,
) -> None:
    """Tag every track (musicnn), describe it with the LLM by analogy, and index both."""
    from clipflows.agents.health import require_llm_server
    from clipflows.components.music.tracks import packaged_tracks_dir

    if folder is not None and not folder.is_dir():
        raise InputNotFoundError(f"Track folder {folder} is not a folder; give a folder of tracks.")
    settings = load_cli_settings(config)
    require_llm_server(settings.llm)  # the descriptions need the LLM: a dead server stops us here
    from clipflows.flows.music_library import describe_library

    with flow_session():
        result = describe_library(
            str(folder or packaged_tracks_dir()), str(output) if output else None, settings
        )
    console.print(
        f"{result.tracks} tracks indexed in {result.index_dir} ({result.tagger_runs} tagger runs, "
        f"{result.llm_calls} LLM calls; {len(result.skipped)} unreadable, "
        f"{len(result.description_failures)} without a valid description)"
    )


def music_search(
    query: Annotated[str, typer.Argument(help="What you want to hear, in words.")],
    index: Annotated[Path | None, typer.Option(help="Index folder (music-describe -o).")] = None,
    k: Annotated[int, typer.Option("-k", min=1, help="How many tracks to list.")] = 5,
    field: Annotated[str, typer.Option(help="description or tags")] = "description",
    config: ConfigOption = None,
) -> None:
    """Search a described library by text."""
    if not query.strip():
        raise EmptyInputError("The query is empty: say in words what you want to hear.")
    if field not in SEARCH_FIELDS:
        raise ClipflowsError(f"--field {field!r} is not one of {', '.join(SEARCH_FIELDS)}.")
    settings = load_cli_settings(config)
    folder = check_library(index or settings.cache_dir / "music-library")
    from clipflows.components.music.library import MusicLibrary
    from clipflows.components.sentence import SentenceEncoder

    with quiet_libraries():
        library = MusicLibrary.load(folder, SentenceEncoder())
        results = library.search_text(query, k, field)  # type: ignore[arg-type]
    console.print(search_table(results))


SEARCH_FIELDS = ("description", "tags")


def check_library(folder: Path) -> Path:
    """``folder`` if it holds a described library's files; else one error naming what is missing
    and the command that writes them, before the sentence encoder loads (seconds)."""
    from clipflows.components.music.library import FILES

    if not folder.is_dir():
        missing = f"{folder} is not a folder"
    else:
        absent = [name for name in FILES.values() if not (folder / name).is_file()]
        if not absent:
            return folder
        missing = f"{folder} lacks {', '.join(absent)}"
    raise InputNotFoundError(
        f"No described music library: {missing}. Give --index the folder `clipflows "
        f"music-describe -o FOLDER` wrote, or run `clipflows music-describe -o {folder}` first."
    )


def search_table(results: list) -> Table:
    """Scored tracks as a table whose track names are never cut: the name is what a user
    copies, so the tags and description columns wrap instead."""
    names = [Path(track.path).name for track, _ in results]
    table = Table()
    table.add_column("score")
    table.add_column("track", no_wrap=True, min_width=max(map(len, names), default=5))
    for heading in ("mood", "tags", "description"):
        table.add_column(heading)
    for (track, score), name in zip(results, names, strict=True):
        table.add_row(f"{score:.3f}", name, track.mood or "", track.tags_text(), track.description)
    return table


def music_generate(
    description: Annotated[str, typer.Argument(help="The music to make, in words.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="WAV file to write.")] = Path(
        "generated.wav"
    ),
    seconds: Annotated[float, typer.Option(min=0.5, max=30, help="Length of the clip.")] = 5.0,
    model: Annotated[
        str, typer.Option(help="facebook/musicgen-small, ... or debug")
    ] = "facebook/musicgen-small",
) -> None:
    """Generate a clip with MusicGen (needs its weights; 'debug' runs audiocraft's tiny model)."""
    if not description.strip():
        raise EmptyInputError("The description is empty: say in words what music to make.")
    from clipflows.components.music.generation import MusicGenerator

    with quiet_libraries():
        clip = MusicGenerator(model).generate(description, seconds, output)
    console.print(
        f"{clip.duration_s:.1f} s at {clip.sample_rate} Hz from {clip.model}: {clip.path}"
    )


def music_train(
    library: Annotated[
        Path | None, typer.Option(help="Described library (music-describe -o); default: cache.")
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Model folder.")] = None,
    steps: Annotated[int | None, typer.Option(min=1, help="Training steps.")] = None,
    config: ConfigOption = None,
) -> None:
    """Train the video/text -> music model on synthetic paired videos; print held-out recall."""
    from clipflows.flows.music_retrieval import (
        MusicRetrievalConfig,
        scores_markdown,
        train_music_retrieval,
    )

    retrieval = MusicRetrievalConfig()
    if steps:
        retrieval.training.steps = steps
    # The paired videos are world renders: their frames are encoded by the world CLIP.
    settings = world_unless_named(load_cli_settings(config))
    with flow_session():
        result = train_music_retrieval(
            str(library) if library else None,
            str(output) if output else None,
            settings,
            retrieval,
        )
    console.print(scores_markdown(result))
    console.print(f"Model and library index: {result.model_dir}")


def music_recommend(
    video: Annotated[
        Path | None, typer.Argument(help="A video file or a folder of frames.")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", "-t", help="What you wish for.")] = None,
    k: Annotated[int, typer.Option("-k", min=1, help="How many tracks to recommend.")] = 5,
    model_dir: Annotated[Path | None, typer.Option(help="music-train -o; default: cache.")] = None,
    generate: Annotated[bool, typer.Option(help="Also generate a clip with MusicGen.")] = False,
    generator: Annotated[
        str, typer.Option(help="facebook/musicgen-small, ... or debug")
    ] = "facebook/musicgen-small",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Report folder (result.json).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Rank library tracks for a video, a text wish, or both."""
    from clipflows.components.reports import check_report_folder

    if output is not None:
        check_report_folder(output)  # before any model or server starts
    if video is not None and not video.exists():
        raise InputNotFoundError(
            f"Video {video} does not exist; give a video file or a folder of frames."
        )
    settings = world_unless_named(load_cli_settings(config))  # the model's video CLIP
    from clipflows.flows.music_retrieval import recommend

    with flow_session():
        result = recommend(
            str(video) if video else None,
            text,
            k,
            str(model_dir) if model_dir else None,
            settings,
            generate=generate,
            generator=generator,
            output=str(output) if output else None,
        )
    table = Table("score", "track", "from", "mood", "tags", "description")
    for item in result.recommendations:
        table.add_row(
            f"{item.score:.3f}",
            Path(item.track.path).name,
            f"{item.start_s:.0f} s",
            item.track.mood or "",
            item.track.tags_text(),
            item.track.description,
        )
    console.print(table)
    if result.generated:
        console.print(f"Generated ({result.generated.model}): {result.generated.path}")
    if result.generation_error:
        console.print(f"[yellow]No clip generated:[/yellow] {result.generation_error}")


COMMANDS = {
    "music-describe": music_describe,
    "music-search": music_search,
    "music-generate": music_generate,
    "music-train": music_train,
    "music-recommend": music_recommend,
}
