"""The ``clipflows`` command line: models, world data, CLIP training, set difference, the demo.

Each workflow's commands live in their own ``cli_*`` module and register on the shared app.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clipflows.components.errors import ClipflowsError

from .cli_common import (
    ClipOption,
    ConfigOption,
    RunnerOption,
    WorkersOption,
    app,
    console,
    with_runner,
)
from .cli_common import load_cli_settings as _settings


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
def diff(
    set_a: Annotated[str, typer.Argument(help="Folder of images, or a group name with --csv.")],
    set_b: Annotated[str, typer.Argument(help="Folder of images, or a group name with --csv.")],
    csv: Annotated[
        Path | None, typer.Option(help="VisDiffBench-style CSV: group_name,path[,...]")
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Report folder.")] = Path(
        "set-difference-report"
    ),
    truth: Annotated[str | None, typer.Option(help="Ground truth: judge the top 5.")] = None,
    captioner: Annotated[
        str, typer.Option(help="clip-vocabulary, blip or vlm.")
    ] = "clip-vocabulary",
    rounds: int = 3,
    refine_rounds: Annotated[
        int, typer.Option(help="Rounds in which the LLM refines ranked hypotheses.")
    ] = 0,
    sample_size: int = 20,
    alpha: float = 0.05,
    top: Annotated[int, typer.Option(help="Rows to print.")] = 10,
    config: ConfigOption = None,
    clip: ClipOption = None,
    runner: RunnerOption = "thread",
    workers: WorkersOption = None,
) -> None:
    """Describe how image set A differs from set B (VisDiff): caption, propose, rank, judge."""
    from clipflows.agents.proposer import ProposerConfig
    from clipflows.agents.refiner import RefinerConfig
    from clipflows.components.ranking import RankerConfig

    from .set_difference import set_difference

    if csv is not None:
        from clipflows.components.visdiff_data import load_image_groups

        groups = load_image_groups(csv)
        missing = [g for g in (set_a, set_b) if g not in groups]
        if missing:
            raise ClipflowsError(
                f"{csv} has no group {missing[0]!r}; groups: {sorted(groups)[:10]}"
            )
        inputs = ([str(p) for p in groups[set_a]], [str(p) for p in groups[set_b]])
    else:
        inputs = (set_a, set_b)
    result = with_runner(set_difference, runner, workers)(
        *inputs,
        settings=_settings(config, clip),
        names=_set_names(set_a, set_b),
        captioner=captioner,
        proposer=ProposerConfig(rounds=rounds, sample_size=sample_size),
        ranker=RankerConfig(alpha=alpha),
        refiner=RefinerConfig(rounds=refine_rounds) if refine_rounds else None,
        truth=truth,
        output=str(output),
    )
    console.print(_ranking_table(result.ranking[:top]))
    skipped = result.set_a.skipped + result.set_b.skipped
    if skipped:
        console.print(f"[yellow]{len(skipped)} unreadable images skipped[/] (see result.json)")
    if result.evaluation:
        console.print(
            f"Judge: Acc@1 {result.evaluation.acc_at_1}, Acc@5 {result.evaluation.acc_at_5}"
        )
    console.print(f"Report: {result.report.get('report.html')}")


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
    diff = result.set_difference
    console.rule(f"Set difference: {diff.pair} (truth: {diff.truth})")
    console.print(_ranking_table(diff.top))
    console.print(
        f"Acc@1 {diff.evaluation.acc_at_1:.1f}, Acc@5 {diff.evaluation.acc_at_5:.1f} "
        f"(keyword judge against the known attribute). Report: {diff.report}"
    )
    for run in result.classification:
        console.rule(f"Differential descriptions: {run.task}, {run.descriptions} descriptions")
        table = Table("method", "accuracy", "note")
        for method in run.methods:
            table.add_row(method.method, f"{method.accuracy:.1%}", method.note)
        console.print(table)
        console.print(
            f"{run.pairs_occurring} of {run.pairs_possible} class pairs share an ambiguity set "
            f"(k={run.k}); {run.llm_calls} LLM calls. Report: {run.report}"
        )
    sep = result.separation
    console.rule(f"Sound separation: {sep.query!r} from a dog + violin mixture (held-out audio)")
    console.print(
        f"SI-SDR improvement {sep.si_sdr_improvement:+.1f} dB. Separated: {sep.separated}; "
        f"residual: {sep.residual}; spectrograms: {sep.figure}"
    )
    music = result.music
    console.rule("Music for video: held-out synthetic videos, 28 packaged tracks")
    console.print(
        f"{music.tracks} tracks described ({music.description_failures} by their tags: the LLM's "
        "answers never validated). Video-only queries on held-out tracks, recall@10 / median rank: "
        + ", ".join(
            f"{name} {recall:.2f} / {music.median_rank[name]:.0f}"
            for name, recall in music.video_recall_at_10.items()
        )
    )
    table = Table("sample video", "recommended (mood)")
    for pick in music.picks:
        table.add_row(
            pick.video,
            ", ".join(f"{t} ({m})" for t, m in zip(pick.top_tracks, pick.top_moods, strict=True)),
        )
    console.print(table)


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Start the web app (Streamlit) on http://HOST:PORT."""
    import importlib.util
    import subprocess

    app_file = importlib.util.find_spec("clipflows.ui.app").origin  # found, not imported
    command = [
        sys.executable, "-m", "streamlit", "run", str(app_file),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--server.maxUploadSize", "200", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    console.print(f"clipflows web app on http://{host}:{port} (Ctrl+C stops it)")
    raise typer.Exit(subprocess.call(command))


def _set_names(set_a: str, set_b: str) -> tuple[str, str]:
    """Report names for the sets: folder names, or the paths as given when those are equal
    (``a/images`` and ``b/images``)."""
    names = (Path(set_a).name or set_a, Path(set_b).name or set_b)
    return names if names[0] != names[1] else (set_a, set_b)


def _ranking_table(scores: list) -> Table:
    """Ranked hypotheses; the ones the p-value filter rejected are dimmed."""
    table = Table("rank", "hypothesis", "more true of", "AUROC (95% CI)", "p-value")
    for rank, score in enumerate(scores, start=1):
        style = "" if score.significant else "[dim]"
        table.add_row(
            str(rank),
            f"{style}{score.text}",
            score.direction,
            f"{score.auroc:.3f} ({score.auroc_low:.2f}-{score.auroc_high:.2f})",
            f"{score.p_value:.2g}",
        )
    return table


# Importing a workflow's command module registers its commands on `app` (imports stay lazy inside).
from . import cli_assistant, cli_classify, cli_music, cli_separate  # noqa: E402, F401


def main() -> None:
    """Entry point: run the app and print user errors as one readable message."""
    # The temporary Prefect server must not try to phone home from offline machines.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Its start-up takes seconds on an idle machine but can pass Prefect's default on a busy one.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    try:
        app()
    except ClipflowsError as error:
        Console(stderr=True).print(f"[bold red]Error:[/] {error}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
