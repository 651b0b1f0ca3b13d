"""Earlier runs: from the Prefect API when a server is configured, else the local reports.

Every flow that writes a report calls :func:`record_run` once it is written; the record is one
JSON line per run appended to ``runs.jsonl`` in the cache dir (whole lines, under a lock), so
runs from the terminal, the web app, the assistant and deployments on this machine are listed
together, under a title a person reads (workflow, sets or dataset, time). Report folders the app
and the assistant wrote before there was a record are found in their own folders.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from clipflows.components.reports import ReportRecord, read_run_record

INDEX_FILE = "runs.jsonl"
RUN_FOLDERS = ("ui-runs", "assistant-runs")  # under the cache dir: reports of the app's runs
log = logging.getLogger(__name__)


class RunRecord(BaseModel):
    name: str
    flow: str
    state: str
    started: datetime | None
    report: str | None = None  # a folder with result.json / report.html, when local
    title: str = ""  # what the run was about, in words: "set_a vs set_b", "pets"
    id: str = ""  # stable for one report folder (run_id): the Runs page's ?run= link
    files: list[str] = Field(default_factory=list)  # the report's own files, plain names


class _IndexEntry(BaseModel):
    workflow: str
    title: str
    report: str
    recorded: datetime


def run_id(report_dir: str | Path) -> str:
    """A short id of a report folder, the same wherever it is computed: links name runs by it."""
    resolved = str(Path(report_dir).expanduser().resolve())
    return hashlib.sha256(resolved.encode()).hexdigest()[:12]


def record_run(cache_dir: Path, workflow: str, title: str, report_dir: str | Path) -> None:
    """Add a run whose report is in ``report_dir`` to the record of runs in ``cache_dir``.

    A record that cannot be written is logged, never raised: the report itself is written."""
    entry = _IndexEntry(
        workflow=workflow,
        title=title,
        report=str(Path(report_dir).expanduser().resolve()),
        recorded=datetime.now(UTC),
    )
    line = (entry.model_dump_json() + "\n").encode()
    try:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        with _appending(Path(cache_dir) / INDEX_FILE) as descriptor:
            os.write(descriptor, line)
    except OSError as error:
        log.warning("The run could not be added to the list of runs (%s): %s", cache_dir, error)


@contextmanager
def _appending(path: Path) -> Iterator[int]:
    """``path`` opened to append, locked (``flock``) so that lines of two runs never mix."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): one short O_APPEND write is still whole
            yield descriptor
            return
        with contextlib.suppress(OSError):  # some network file systems refuse flock
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield descriptor
    finally:
        os.close(descriptor)  # releases the lock


def recorded_runs(cache_dir: Path, limit: int = 50) -> list[RunRecord]:
    """Runs on this machine whose report is still there, newest first: those in the record of
    runs, and the app's and assistant's report folders. A folder written twice is listed once,
    under its latest record."""
    cache_dir = Path(cache_dir)
    latest: dict[str, _IndexEntry] = {}
    for entry in _read_index(cache_dir / INDEX_FILE):
        latest[entry.report] = entry  # later lines win
    runs = {}
    for folder, entry in latest.items():
        record = read_run_record(Path(folder))
        if record is not None:
            runs[folder] = _run(Path(folder), entry.workflow, entry.title, record)
    for parent in RUN_FOLDERS:
        for run in local_runs(cache_dir / parent, limit=limit):
            folder = Path(run.report).resolve()
            record = read_run_record(folder)
            if str(folder) not in runs and record is not None:
                runs[str(folder)] = _run(folder, run.flow, _title(folder), record)
    return sorted(runs.values(), key=lambda run: run.started, reverse=True)[:limit]


def _read_index(path: Path) -> Iterator[_IndexEntry]:
    """The index's entries; a line that does not parse (a hand edit, a disk full) is skipped."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    for line in lines:
        with contextlib.suppress(ValidationError, ValueError):
            yield _IndexEntry.model_validate_json(line)


def _run(folder: Path, workflow: str, title: str, record: ReportRecord) -> RunRecord:
    return RunRecord(
        name=title or folder.name,
        flow=workflow,
        state="Completed",
        started=record.finished,
        report=str(folder),
        title=title,
        id=run_id(folder),
        files=[name for name in record.files if name and Path(name).name == name],
    )


def _title(folder: Path) -> str:
    """A title for a folder without a record: its sets' names when it is a set difference."""
    try:
        result = json.loads((folder / "result.json").read_text())
        return f"{result['set_a']['name']} vs {result['set_b']['name']}"
    except (OSError, ValueError, KeyError, TypeError):
        return folder.name


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
