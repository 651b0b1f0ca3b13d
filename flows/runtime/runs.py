"""Earlier runs: from the Prefect API when a server is configured, else the local reports."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from clipflows.components.reports import read_run_record


class RunRecord(BaseModel):
    name: str
    flow: str
    state: str
    started: datetime | None
    report: str | None = None  # a folder with result.json / report.html, when local


def prefect_runs(limit: int = 20) -> list[RunRecord]:
    """Recent flow runs from the configured Prefect server (``PREFECT_API_URL``)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(limit=limit, sort="START_TIME_DESC")
        flows = {f.id: f.name for f in client.read_flows(limit=200)}
    return [
        RunRecord(
            name=run.name,
            flow=flows.get(run.flow_id, str(run.flow_id)),
            state=run.state_name or "?",
            started=run.start_time,
        )
        for run in runs
    ]


def local_runs(folder: Path, limit: int = 50) -> list[RunRecord]:
    """Report folders under ``folder`` (as the app writes them), newest first; each names its
    workflow in its own ``run.json`` (see ``components.reports``)."""
    if not folder.is_dir():
        return []
    found = [(path, read_run_record(path)) for path in folder.iterdir() if path.is_dir()]
    reports = sorted(
        ((path, record) for path, record in found if record is not None),
        key=lambda item: item[1].finished,
        reverse=True,
    )
    return [
        RunRecord(
            name=path.name,
            flow=record.workflow,
            state="Completed",
            started=record.finished,
            report=str(path),
        )
        for path, record in reports[:limit]
    ]


def server_configured() -> bool:
    return bool(os.environ.get("PREFECT_API_URL"))
