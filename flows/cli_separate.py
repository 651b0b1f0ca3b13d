"""Commands for text-queried sound separation (CLIPSep); they register on the shared app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli_common import ConfigOption, app, console, load_cli_settings


@app.command()
def separate(
    audio: Annotated[
        Path, typer.Argument(help="Recording (WAV, FLAC, Ogg/Opus, MP3), any length.")
    ],
    query: Annotated[str, typer.Argument(help="What to keep, e.g. 'dog barking'.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Separated WAV.")] = Path(
        "separated.wav"
    ),
    model: Annotated[
        Path | None, typer.Option(help="Trained separator folder; default: the cached one.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Keep the sound a text query describes; also writes the residual and a spectrogram."""
    from .separation import separate as separate_flow

    result = separate_flow(
        str(audio), query, str(output), str(model) if model else None, load_cli_settings(config)
    )
    console.print(
        f"{result.seconds:.1f} s separated for {query!r}: {result.separated} "
        f"(residual {result.residual}, figure {result.figure})"
    )


@app.command("train-separator")
def train_separator(
    output: Annotated[Path, typer.Argument(help="Folder for the model (rerun to resume).")],
    steps: Annotated[int, typer.Option(min=1)] = 600,
    unconditioned: Annotated[bool, typer.Option(help="Train the no-query baseline.")] = False,
    config: ConfigOption = None,
) -> None:
    """Train a separator by mix-and-separate on the offline animal and instrument sounds."""
    from clipflows.components.separator_store import DEFAULT_SEPARATOR

    from .separation import train_separator_flow

    model = DEFAULT_SEPARATOR.model.model_copy(update={"conditioned": not unconditioned})
    chosen = DEFAULT_SEPARATOR.model_copy(update={"steps": steps, "model": model})
    train_separator_flow(str(output), chosen, load_cli_settings(config))
    console.print(f"Separator in {output} (loss curve: {output / 'loss.png'})")


@app.command("eval-separation")
def eval_separation(
    mixtures: Annotated[int, typer.Option(min=2)] = 40,
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("separation-report"),
    config: ConfigOption = None,
) -> None:
    """SI-SDR improvement and BSS Eval of the cached models on held-out real-sound mixtures."""
    from .separation import evaluate_separation, to_markdown

    result = evaluate_separation(load_cli_settings(config), mixtures=mixtures, output=str(output))
    console.print(to_markdown(result))
