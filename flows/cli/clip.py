"""Commands for CLIP itself: the specs on this machine, world data, training."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from clipflows.components.errors import ClipflowsError, InputNotFoundError
from clipflows.flows.cli.common import ConfigOption, console
from clipflows.flows.cli.common import load_cli_settings as _settings
from clipflows.flows.cli.llm import llm_table
from clipflows.flows.cli.session import flow_session


def models(
    check: Annotated[str | None, typer.Option(help="Load this CLIP spec and report.")] = None,
    fetch: Annotated[
        str | None, typer.Option(help="Download a spec's weights (needs network).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """List CLIP specs and LLMs and what is on this machine; check or fetch one CLIP spec."""
    from clipflows.components.world.recipe import world_clip_dir  # no torch: `models` is quick

    settings = _settings(config)
    if check or fetch:
        from clipflows.components.clip.encoder import ClipEncoder

        spec = check or fetch
        encoder = ClipEncoder(spec, settings=settings, use_cache=False)
        console.print(
            f"[green]OK[/] {spec}: {encoder.model_identity}, dim {encoder.embed_dim}, "
            f"device {encoder.device}"
        )
        return
    console.print(spec_table())
    world = world_clip_dir(settings.cache_dir) / "model"
    state = (
        "trained"
        if (world / "open_clip_config.json").is_file()
        else "not trained yet (trains on first use)"
    )
    table = Table(title="This machine")
    table.add_column("what")
    table.add_column("value")
    table.add_row("settings: clip", settings.clip)
    table.add_row("settings: llm backend", settings.llm.backend)
    table.add_row("cache dir", str(settings.cache_dir))
    table.add_row("world CLIP", f"{state}: {world}")
    table.add_row("HF_HUB_OFFLINE", os.environ.get("HF_HUB_OFFLINE", "(unset)"))
    console.print(table)
    console.print(llm_table(settings.llm.models_dir, settings.llm.model))
    console.print(  # one line however narrow the terminal: it is a command to copy
        "open_clip pretrained tags: `python -c 'import open_clip; print(open_clip.list_pretrained())'`",
        soft_wrap=True,
    )


def spec_table() -> Table:
    """The forms a CLIP spec takes, as a table that wraps to the terminal (specs whole)."""
    from clipflows.components.clip.spec import SPEC_FORMS

    table = Table(title="CLIP specs (--clip, or the clip setting)")
    table.add_column("spec", no_wrap=True)
    table.add_column("meaning")
    for form, meaning in SPEC_FORMS:
        table.add_row(form, meaning)
    return table


def world(
    output: Annotated[
        Path, typer.Argument(help="Folder to write images/ and captions.jsonl into.")
    ],
    count: Annotated[int, typer.Option(min=1, help="How many images.")] = 1000,
    colours: Annotated[str | None, typer.Option(help="Comma-separated colours to allow.")] = None,
    shapes: Annotated[str | None, typer.Option(help="Comma-separated shapes to allow.")] = None,
    max_objects: Annotated[int, typer.Option(min=1, max=4, help="Most shapes per image.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same images.")] = 0,
) -> None:
    """Write a procedural image-caption dataset with ground-truth attributes."""
    from clipflows.components.world.scenes import WorldConfig, write_dataset

    fields: dict = {"max_objects": max_objects, "seed": seed}
    if colours:
        fields["colours"] = colours.split(",")
    if shapes:
        fields["shapes"] = shapes.split(",")
    try:
        config = WorldConfig(**fields).check()
    except ValueError as error:
        raise ClipflowsError(str(error)) from None
    write_dataset(config, count, output)
    console.print(f"Wrote {count} images and captions.jsonl to {output}")


def train_clip(
    data: Annotated[Path, typer.Argument(help="Image-caption folder (captions.jsonl/.csv/.tsv).")],
    output: Annotated[Path, typer.Argument(help="Output folder (an open_clip local-dir).")],
    init: Annotated[
        str | None, typer.Option(help="CLIP spec to fine-tune; default: a new tiny model.")
    ] = None,
    steps: Annotated[int, typer.Option(min=1, help="Optimiser steps in all.")] = 600,
    batch_size: Annotated[int, typer.Option(help="Image-caption pairs per step.")] = 128,
    learning_rate: Annotated[float, typer.Option(help="Peak AdamW learning rate.")] = 1e-3,
    precision: Annotated[str, typer.Option(help="fp32 or bf16 (autocast).")] = "fp32",
    config: ConfigOption = None,
) -> None:
    """Train or fine-tune an open_clip model with its own loss; rerun to resume."""
    if not data.is_dir():
        raise InputNotFoundError(
            f"Training data {data} is not a folder; give one with captions.jsonl (or .csv, .tsv) "
            "and its images, e.g. from `clipflows world`."
        )
    settings = _settings(config)
    from clipflows.components.clip.training import ClipTrainConfig
    from clipflows.components.device import resolve_device
    from clipflows.components.world.model import TINY_ARCHITECTURE
    from clipflows.flows.train_clip import train_clip_flow

    train_config = ClipTrainConfig(
        architecture=None if init else TINY_ARCHITECTURE,
        init=init,
        steps=steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        precision=precision,
    )
    with flow_session():
        result = train_clip_flow(
            str(data), str(output), train_config, str(resolve_device(settings.device))
        )
    console.print(f"{trained_summary(result)} Use it with --clip local-dir:{output}")


def trained_summary(result) -> str:
    """What this run did: the steps it ran, and the total when it resumed a checkpoint."""
    ran = result.steps - result.resumed_from
    if ran == 0:
        return f"Already trained: {result.steps} steps, nothing to run."
    done = f"Trained {ran} steps in {result.seconds:.0f} s"
    if result.resumed_from:
        done += f" (resumed at step {result.resumed_from}; {result.steps} in all)"
    return f"{done}, final loss {result.final_loss:.3f}."


COMMANDS = {"models": models, "world": world, "train-clip": train_clip}
