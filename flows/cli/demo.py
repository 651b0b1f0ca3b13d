"""The demo command: every workflow end to end on the embedded defaults."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from clipflows.components.settings import world_unless_named
from clipflows.flows.cli.common import ClipOption, ConfigOption, console
from clipflows.flows.cli.common import load_cli_settings as _settings
from clipflows.flows.cli.session import flow_session
from clipflows.flows.cli.set_difference import ranking_table


def demo(
    config: ConfigOption = None,
    clip: ClipOption = None,
    as_json: Annotated[bool, typer.Option(help="Print the results as JSON.")] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Folder for the reports, separated audio and music model (default: the cache "
            "dir, where the web app finds the music model).",
        ),
    ] = None,
) -> None:
    """Run the workflows end to end on the embedded defaults (offline) and print the results."""
    started = time.monotonic()
    settings = world_unless_named(_settings(config, clip))  # the demo's images are world renders
    from clipflows.flows.demo import demo_flow

    with flow_session():
        result = demo_flow(settings, str(output) if output else None)
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
    console.print(ranking_table(diff.top))
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
        if run.example is not None:
            (a, b), (about_a, about_b) = run.example.classes, run.example.descriptions
            console.print(
                f"How the descriptions tell {a!r} from {b!r} ({run.example.attribute}): "
                f"{about_a!r} / {about_b!r}"
            )
    sep = result.separation
    console.rule(f"Sound separation: {sep.query!r} from a dog + violin mixture (held-out audio)")
    console.print(
        f"SI-SDR improvement {sep.si_sdr_improvement:+.1f} dB (mean over "
        f"{sep.held_out_mixtures} held-out mixtures {sep.held_out_si_sdr_improvement:+.1f} dB). "
        f"Separated: {sep.separated}; "
        f"residual: {sep.residual}; spectrograms: {sep.figure}"
    )
    music = result.music
    console.rule("Music for video: held-out synthetic videos, 28 packaged tracks")
    fallbacks = (
        f"{music.description_failures} by their tags, where the LLM's answers never validated"
        if music.description_failures
        else "every one by the LLM"
    )
    console.print(f"{music.tracks} tracks described ({fallbacks}), for example:")
    for example in music.examples:
        console.print(f"  {example.track} (tags: {example.tags}): {example.description!r}")
    console.print(
        "Video-only queries on held-out tracks, recall@10 / median rank: "
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
    console.rule("Done")
    if result.llm_seconds is not None:
        console.print(
            f"LLM ({result.llm}): {result.llm_seconds:.0f} s answering in all, "
            f"{result.llm_tokens} tokens generated (answers cached from an earlier run cost none)."
        )
    seconds = time.monotonic() - started
    for line in closing_lines(seconds, Path(result.reports), Path(sep.separated).parent):
        console.print(line, soft_wrap=True, highlight=False)  # paths whole, to copy


def closing_lines(seconds: float, reports: Path, separated: Path) -> list[str]:
    """What a person reads last: how long the demo took, where its outputs are, what next."""
    minutes, rest = divmod(round(seconds), 60)
    took = f"{minutes} min {rest} s" if minutes else f"{rest} s"
    return [
        f"Demo finished in {took}.",
        f"Reports: {reports} (a folder per run; open report.html in a browser)",
        f"Separated audio and spectrograms: {separated}",
        "Next: `clipflows ui` opens the web app (http://127.0.0.1:8501): every workflow on your "
        "own images and recordings, with its runs on the Runs page.",
        "Or here: `clipflows diff FOLDER_A FOLDER_B`, `clipflows classify FOLDER`, "
        "`clipflows separate RECORDING 'dog barking'`; `clipflows --help` lists every command.",
        "Your photos get a real CLIP (ViT-B-32:laion2b_s34b_b79k, from the Hugging Face hub "
        "cache); the demo's `world` CLIP knows only coloured shapes.",
    ]


COMMANDS = {"demo": demo}
