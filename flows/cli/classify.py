"""Commands for differential class descriptions (FuDD); they register on the shared app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from clipflows.components.classification.sources import LLM_DESCRIPTIONS, WORLD_TASK
from clipflows.flows.cli.common import (
    ClipOption,
    ConfigOption,
    RunnerOption,
    WorkersOption,
    console,
    load_cli_settings,
    print_evidence,
    with_runner,
)
from clipflows.flows.cli.session import flow_session


def classify(
    dataset: Annotated[
        str,
        typer.Argument(
            help="'world', a folder with one sub-folder per class, or a CSV of path,label."
        ),
    ],
    classes: Annotated[
        str | None, typer.Option(help="Comma-separated class names, in label order (CSV only).")
    ] = None,
    descriptions: Annotated[
        str, typer.Option(help="llm, world (oracle; world task only) or a FuDD description JSON.")
    ] = "llm",
    description_classes: Annotated[
        Path | None,
        typer.Option(
            help="The class list (JSON list or a name a line) whose order a description file's "
            "indices count, when FuDD's <dataset>_class_names.json is not beside it."
        ),
    ] = None,
    templates: Annotated[
        str, typer.Option(help="First-pass templates: single, ensemble80 or name.")
    ] = "single",
    k: Annotated[int, typer.Option("-k", min=2, help="Ambiguity set size.")] = 10,
    context: Annotated[
        str | None, typer.Option(help="What the images are, for the LLM, e.g. 'a photo of a pet'.")
    ] = None,
    generic: Annotated[
        bool, typer.Option(help="Also run the generic-description baseline.")
    ] = True,
    output: Annotated[Path, typer.Option("-o", "--output", help="Report folder.")] = Path(
        "classify-report"
    ),
    config: ConfigOption = None,
    clip: ClipOption = None,
    runner: RunnerOption = "thread",
    workers: WorkersOption = None,
) -> None:
    """Zero-shot classification that resolves ambiguities with differential descriptions (FuDD)."""
    from clipflows.components.reports import check_report_folder

    check_report_folder(output)  # before any model or server starts
    class_list = classes.split(",") if classes else None
    class_names = check_dataset(dataset, class_list)
    check_descriptions(descriptions, description_classes, class_names)
    # The world task is world renders: it gets the world CLIP unless --clip names another.
    world = WORLD_TASK if dataset == WORLD_TASK else None
    settings = load_cli_settings(config, clip or world, require_clip=True)
    if descriptions == LLM_DESCRIPTIONS:
        from clipflows.agents.health import require_llm_server

        require_llm_server(settings.llm)
    from clipflows.flows.classify import ClassifyConfig
    from clipflows.flows.classify import classify as classify_flow

    with flow_session():
        result = with_runner(classify_flow, runner, workers)(
            dataset,
            classes=class_list,
            settings=settings,
            config=ClassifyConfig(
                descriptions=descriptions,
                description_classes=str(description_classes) if description_classes else None,
                templates=templates,
                k=k,
                context=context,
                generic=generic,
            ),
            output=str(output),
        )
    console.print(accuracy_table(result))
    print_classify_evidence(result)
    console.print(
        f"{result.images} images, {len(result.class_names)} classes; {result.pairs_occurring} of "
        f"{result.pairs_possible} class pairs occur in some ambiguity set (k={result.k}); "
        f"{result.llm_calls_pairs} LLM calls for them. Report: {result.report.get('report.html')}"
    )
    if result.skipped:
        console.print(
            f"[yellow]{len(result.skipped)} unreadable images skipped[/] (see result.json)"
        )
    if result.description_failures:
        console.print(
            f"[yellow]{len(result.description_failures)} pairs got no valid description[/]; "
            "their classes fell back to the template embedding."
        )


def check_dataset(dataset: str, classes: list[str] | None) -> list[str]:
    """Read a dataset's folder or CSV as the flow will, so a missing folder, a bad row or too
    few classes stop the command before any model or server starts; returns its class names."""
    from clipflows.components.classification.datasets import load_image_folder, load_labels_csv

    if dataset == WORLD_TASK:
        from clipflows.components.world.class_task import world_class_names

        return world_class_names()
    if Path(dataset).suffix.lower() == ".csv":
        return load_labels_csv(dataset, classes).class_names
    return load_image_folder(dataset).class_names


def check_descriptions(
    descriptions: str, description_classes: Path | None, class_names: list[str]
) -> None:
    """Read a description file (and its class list) for the dataset's classes as the flow
    will, so a missing or mismatched file stops the command before any model or server starts."""
    if descriptions in (LLM_DESCRIPTIONS, WORLD_TASK):
        return
    from clipflows.components.classification.class_lists import read_class_list
    from clipflows.components.classification.descriptions import read_fudd_file

    listed = read_class_list(description_classes) if description_classes else None
    read_fudd_file(descriptions, class_names, listed)


def print_classify_evidence(result) -> None:
    """The warnings, the level every accuracy must beat, and which models made the result."""
    level = f"To beat: {result.chance.text()}." if result.chance is not None else None
    print_evidence(result.warnings, result.provenance, level)


def accuracy_table(result) -> Table:
    """Accuracy per method on the test split, with its 95% interval."""
    from clipflows.components.classification.report import interval_text, percent

    table = Table(
        "method",
        "accuracy",
        "95% interval",
        "note",
        title=f"Test split: {result.test_images} images",
    )
    for method in result.methods:
        table.add_row(method.method, percent(method.accuracy), interval_text(method), method.note)
    return table


COMMANDS = {"classify": classify}
