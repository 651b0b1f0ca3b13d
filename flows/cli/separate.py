"""Commands for text-queried sound separation (CLIPSep); they register on the shared app."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from clipflows.flows.cli.common import ConfigOption, console, load_cli_settings
from clipflows.flows.cli.session import flow_session


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
    model_rate: Annotated[
        bool,
        typer.Option(
            "--model-rate",
            help="Write at the model's own sample rate (8 kHz by default) instead of resampling "
            "back to the input's rate.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Keep the sound a text query describes; also writes the residual and a spectrogram."""
    from clipflows.components.audio import audio_duration

    with native_stderr_quiet():
        audio_duration(audio)  # AudioError naming a missing or unreadable file, before any server
    settings = load_cli_settings(config)
    from clipflows.flows.separation import separate as separate_flow

    with flow_session():
        result = separate_flow(
            str(audio),
            query,
            str(output),
            str(model) if model else None,
            settings,
            keep_model_rate=model_rate,
        )
    if model_rate:
        rate = f"{result.sample_rate} Hz, the model's rate"
    elif result.sample_rate == result.model_rate:
        rate = f"{result.sample_rate} Hz"
    else:
        rate = f"{result.sample_rate} Hz, the input's rate (separated at {result.model_rate} Hz)"
    console.print(
        f"{result.seconds:.1f} s separated for {query!r}: {result.separated} at {rate} "
        f"(residual {result.residual}, figure {result.figure})"
    )


@contextlib.contextmanager
def native_stderr_quiet() -> Iterator[None]:
    """Native decoders' own notes (libmpg123's "Note: Illegal Audio-MPEG-Header ...") kept off
    the terminal while a file is probed; the error that follows says what is wrong, once."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def train_separator(
    output: Annotated[Path, typer.Argument(help="Folder for the model (rerun to resume).")],
    steps: Annotated[
        int, typer.Option(min=1, help="Optimiser steps in all (more continue a folder).")
    ] = 600,
    unconditioned: Annotated[bool, typer.Option(help="Train the no-query baseline.")] = False,
    config: ConfigOption = None,
) -> None:
    """Train a separator by mix-and-separate on the offline animal and instrument sounds."""
    from clipflows.components.separation.store import DEFAULT_SEPARATOR
    from clipflows.components.separation.training import check_resumable
    from clipflows.flows.separation import train_separator_flow

    model = DEFAULT_SEPARATOR.model.model_copy(update={"conditioned": not unconditioned})
    chosen = DEFAULT_SEPARATOR.model_copy(update={"steps": steps, "model": model})
    check_resumable(output, chosen)  # before any flow starts, so the refusal is one line
    settings = load_cli_settings(config)
    with flow_session():
        train_separator_flow(str(output), chosen, settings)
    console.print(f"Separator in {output} (loss curve: {output / 'loss.png'})")


def eval_separation(
    mixtures: Annotated[int, typer.Option(min=2, help="Held-out mixtures to score.")] = 40,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Report folder (evaluation.json, .md).")
    ] = Path("separation-report"),
    config: ConfigOption = None,
) -> None:
    """SI-SDR improvement and BSS Eval of the cached models on held-out real-sound mixtures."""
    from clipflows.components.separation.evaluation import evaluation_markdown
    from clipflows.flows.separation import evaluate_separation

    settings = load_cli_settings(config)
    with flow_session():
        result = evaluate_separation(settings, mixtures=mixtures, output=str(output))
    console.print(evaluation_markdown(result.mixtures, result.methods))


COMMANDS = {
    "separate": separate,
    "train-separator": train_separator,
    "eval-separation": eval_separation,
}
