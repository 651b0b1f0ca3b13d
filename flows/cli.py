"""The ``clipflows`` command line: models, world data, CLIP training, the demo."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clipflows.components.errors import ClipflowsError

app = typer.Typer(
    help="CLIP + LLM workflows: set differences, differential class descriptions, "
    "text-queried sound separation, music for video.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console()

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Settings file (TOML or YAML); else CLIPFLOWS_CONFIG."),
]
ClipOption = Annotated[
    str | None, typer.Option("--clip", help="CLIP spec, e.g. world or ViT-B-32:laion2b_s34b_b79k.")
]


def _settings(config: Path | None, clip: str | None = None):
    from clipflows.components.settings import load_settings

    overrides = {"clip": clip} if clip else {}
    return load_settings(config, **overrides)


@app.command()
def models(
    check: Annotated[str | None, typer.Option(help="Load this CLIP spec and report.")] = None,
    fetch: Annotated[
        str | None, typer.Option(help="Download a spec's weights (needs network).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """List CLIP specs and what is available on this machine; check or fetch one spec."""
    from clipflows.components.clip_spec import __doc__ as grammar
    from clipflows.components.world_clip import world_clip_dir

    settings = _settings(config)
    if check or fetch:
        from clipflows.components.clip import ClipEncoder

        spec = check or fetch
        encoder = ClipEncoder(spec, settings=settings, use_cache=False)
        console.print(
            f"[green]OK[/] {spec}: {encoder.model_identity}, dim {encoder.embed_dim}, "
            f"device {encoder.device}"
        )
        return
    console.print(grammar.split("\n\n", 1)[1].strip())
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
    console.print(
        "open_clip pretrained tags: `python -c 'import open_clip; print(open_clip.list_pretrained())'`"
    )


@app.command()
def world(
    output: Annotated[
        Path, typer.Argument(help="Folder to write images/ and captions.jsonl into.")
    ],
    count: Annotated[int, typer.Option(min=1, help="How many images.")] = 1000,
    colours: Annotated[str | None, typer.Option(help="Comma-separated colours to allow.")] = None,
    shapes: Annotated[str | None, typer.Option(help="Comma-separated shapes to allow.")] = None,
    max_objects: Annotated[int, typer.Option(min=1, max=4)] = 2,
    seed: int = 0,
) -> None:
    """Write a procedural image-caption dataset with ground-truth attributes."""
    from clipflows.components.world import WorldConfig, write_dataset

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


@app.command("train-clip")
def train_clip(
    data: Annotated[Path, typer.Argument(help="Image-caption folder (captions.jsonl/.csv/.tsv).")],
    output: Annotated[Path, typer.Argument(help="Output folder (an open_clip local-dir).")],
    init: Annotated[
        str | None, typer.Option(help="CLIP spec to fine-tune; default: a new tiny model.")
    ] = None,
    steps: int = 600,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    precision: Annotated[str, typer.Option(help="fp32 or bf16 (autocast).")] = "fp32",
    config: ConfigOption = None,
) -> None:
    """Train or fine-tune an open_clip model with its own loss; rerun to resume."""
    from clipflows.components.clip_training import ClipTrainConfig
    from clipflows.components.device import resolve_device
    from clipflows.components.world_clip import TINY_ARCHITECTURE

    from .train_clip import train_clip_flow

    settings = _settings(config)
    train_config = ClipTrainConfig(
        architecture=None if init else TINY_ARCHITECTURE,
        init=init,
        steps=steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        precision=precision,
    )
    result = train_clip_flow(
        str(data), str(output), train_config, str(resolve_device(settings.device))
    )
    console.print(
        f"Trained {result.steps} steps in {result.seconds:.0f} s, final loss "
        f"{result.final_loss:.3f}. Use it with --clip local-dir:{output}"
    )


@app.command()
def demo(config: ConfigOption = None, clip: ClipOption = None, as_json: bool = False) -> None:
    """Run the workflows end to end on the embedded defaults (offline) and print the results."""
    from .demo import demo_flow

    result = demo_flow(_settings(config, clip))
    if as_json:
        console.print_json(result.model_dump_json())
        return
    world = result.world
    console.rule("World CLIP: zero-shot colour x shape")
    console.print(
        f"{world.images} held-out images, {world.classes} classes (chance {1 / world.classes:.0%}): "
        f"accuracy [bold]{world.accuracy:.1%}[/] (colour {world.colour_accuracy:.1%}, "
        f"shape {world.shape_accuracy:.1%})"
    )
    table = Table("image", "truth", "predicted", "confidence")
    for example in world.examples:
        mark = "[green]" if example.truth == example.predicted else "[red]"
        table.add_row(
            example.image,
            example.truth,
            f"{mark}{example.predicted}[/]",
            f"{example.confidence:.2f}",
        )
    console.print(table)


def main() -> None:
    """Entry point: run the app and print user errors as one readable message."""
    # The temporary Prefect server must not try to phone home from offline machines.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    try:
        app()
    except ClipflowsError as error:
        Console(stderr=True).print(f"[bold red]Error:[/] {error}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
