"""Commands for music: describe a library, search it by text, generate a clip."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .cli_common import ConfigOption, app, console, load_cli_settings


@app.command("music-describe")
def music_describe(
    folder: Annotated[
        Path | None, typer.Argument(help="Folder of tracks; default: the 28 packaged ones.")
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Index folder.")] = None,
    config: ConfigOption = None,
) -> None:
    """Tag every track (musicnn), describe it with the LLM by analogy, and index both."""
    from clipflows.components.music_data import packaged_tracks_dir

    from .music_library import describe_library

    result = describe_library(
        str(folder or packaged_tracks_dir()),
        str(output) if output else None,
        load_cli_settings(config),
    )
    console.print(
        f"{result.tracks} tracks indexed in {result.index_dir} ({result.tagger_runs} tagger runs, "
        f"{result.llm_calls} LLM calls; {len(result.skipped)} unreadable, "
        f"{len(result.description_failures)} without a valid description)"
    )


@app.command("music-search")
def music_search(
    query: Annotated[str, typer.Argument(help="What you want to hear, in words.")],
    index: Annotated[Path | None, typer.Option(help="Index folder (music-describe -o).")] = None,
    k: Annotated[int, typer.Option("-k", min=1)] = 5,
    field: Annotated[str, typer.Option(help="description or tags")] = "description",
    config: ConfigOption = None,
) -> None:
    """Search a described library by text."""
    from clipflows.components.music_library import MusicLibrary
    from clipflows.components.query_encoders import SentenceQueryEncoder

    settings = load_cli_settings(config)
    library = MusicLibrary.load(
        index or settings.cache_dir / "music-library", SentenceQueryEncoder()
    )
    table = Table("score", "track", "mood", "tags", "description")
    for track, score in library.search_text(query, k, field):  # type: ignore[arg-type]
        table.add_row(
            f"{score:.3f}",
            Path(track.path).name,
            track.mood or "",
            track.tags_text(),
            track.description,
        )
    console.print(table)


@app.command("music-generate")
def music_generate(
    description: Annotated[str, typer.Argument(help="The music to make, in words.")],
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("generated.wav"),
    seconds: Annotated[float, typer.Option(min=0.5, max=30)] = 5.0,
    model: Annotated[
        str, typer.Option(help="facebook/musicgen-small, ... or debug")
    ] = "facebook/musicgen-small",
) -> None:
    """Generate a clip with MusicGen (needs its weights; 'debug' runs audiocraft's tiny model)."""
    from clipflows.components.music_generation import MusicGenerator

    clip = MusicGenerator(model).generate(description, seconds, output)
    console.print(
        f"{clip.duration_s:.1f} s at {clip.sample_rate} Hz from {clip.model}: {clip.path}"
    )


@app.command("music-train")
def music_train(
    library: Annotated[
        Path | None, typer.Option(help="Described library (music-describe -o); default: cache.")
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Model folder.")] = None,
    steps: Annotated[int | None, typer.Option(min=1, help="Training steps.")] = None,
    config: ConfigOption = None,
) -> None:
    """Train the video/text -> music model on synthetic paired videos; print held-out recall."""
    from .music_retrieval import MusicRetrievalConfig, scores_markdown, train_music_retrieval

    retrieval = MusicRetrievalConfig()
    if steps:
        retrieval.training.steps = steps
    result = train_music_retrieval(
        str(library) if library else None,
        str(output) if output else None,
        load_cli_settings(config),
        retrieval,
    )
    console.print(scores_markdown(result))
    console.print(f"Model and library index: {result.model_dir}")


@app.command("music-recommend")
def music_recommend(
    video: Annotated[
        Path | None, typer.Argument(help="A video file or a folder of frames.")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", "-t", help="What you wish for.")] = None,
    k: Annotated[int, typer.Option("-k", min=1)] = 5,
    model_dir: Annotated[Path | None, typer.Option(help="music-train -o; default: cache.")] = None,
    generate: Annotated[bool, typer.Option(help="Also generate a clip with MusicGen.")] = False,
    generator: Annotated[
        str, typer.Option(help="facebook/musicgen-small, ... or debug")
    ] = "facebook/musicgen-small",
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
    config: ConfigOption = None,
) -> None:
    """Rank library tracks for a video, a text wish, or both."""
    from .music_retrieval import recommend

    result = recommend(
        str(video) if video else None,
        text,
        k,
        str(model_dir) if model_dir else None,
        load_cli_settings(config),
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
