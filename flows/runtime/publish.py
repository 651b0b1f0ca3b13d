"""A run's report, published the same way by every flow that has one: a table and the report as
Prefect artifacts, and with an output folder, result.json, report.md and report.html (plus the
flow's own files) written as one set and the run added to the record of runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import BaseModel, Field

from clipflows.components.reports import REPORT_FILES, write_report
from clipflows.flows.runtime.runs import record_run


class Report(BaseModel):
    """What a flow says about one run: its texts, and where the run is recorded."""

    workflow: str  # names the artifacts ("set-difference-report") and the run's record
    title: str  # the report's heading
    run_title: str  # the run in the list of runs: "cats vs dogs", "pets (12 classes)"
    table_name: str  # the table artifact's key after the workflow: "ranking", "accuracy"
    table: list[dict]
    markdown: str
    extra_files: dict[str, str] = Field(default_factory=dict)  # e.g. the descriptions used


class ReportedResult(Protocol):
    """A flow's result: it names its report's files once they are written."""

    report: dict[str, str]

    def model_dump_json(self, *, indent: int | None = None) -> str: ...


def publish_report(
    result: ReportedResult,
    report: Report,
    html: Callable[[], str],
    output: str | Path | None,
    cache_dir: Path,
) -> None:
    """Publish ``report`` as artifacts; with ``output``, write the report's files there (the
    result, naming them, as result.json; ``html`` is built only then) and record the run."""
    create_table_artifact(
        key=f"{report.workflow}-{report.table_name}", table=report.table, description=report.title
    )
    create_markdown_artifact(key=f"{report.workflow}-report", markdown=report.markdown)
    if not output:
        return
    folder = Path(output)
    result.report = {name: str(folder / name) for name in (*REPORT_FILES, *report.extra_files)}
    files = {
        "result.json": result.model_dump_json(indent=2),
        "report.md": report.markdown,
        "report.html": html(),
        **report.extra_files,
    }
    write_report(folder, report.workflow, files)
    record_run(cache_dir, report.workflow, report.run_title, folder)
