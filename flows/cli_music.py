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
