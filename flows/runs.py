"""Earlier runs: from the Prefect API when a server is configured, else the local reports."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel


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
    """Report folders written by the app (``<stamp>-<workflow>-<id>``), newest first."""
    if not folder.is_dir():
        return []
    found = sorted((p for p in folder.iterdir() if (p / "result.json").is_file()), reverse=True)
    return [
        RunRecord(
            name=path.name,
            flow=path.name.split("-")[2] if path.name.count("-") >= 3 else path.name,
            state="Completed",
            started=datetime.fromtimestamp((path / "result.json").stat().st_mtime),
            report=str(path),
        )
        for path in found[:limit]
    ]


def server_configured() -> bool:
    return bool(os.environ.get("PREFECT_API_URL"))
