"""Runs writing one report folder at once (``-o`` given to two runs): every run succeeds, and
the folder holds one run's whole report, never files of several."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from clipflows.components.reports import read_run_record, write_report

NAMES = ("result.json", "report.md", "report.html")


def _write(folder: str, tag: str, start: float) -> str:
    """One run's report, written once the shared start time comes; '' or what went wrong."""
    while time.time() < start:
        time.sleep(0.0005)
    try:
        write_report(Path(folder), tag, {name: tag for name in NAMES})
    except Exception as error:  # noqa: BLE001 (every failure is the finding)
        return f"{tag}: {error!r}"
    return ""


def test_eight_processes_writing_one_report_folder_leave_one_whole_report(tmp_path):
    folder = tmp_path / "report"
    context = multiprocessing.get_context("spawn")  # real processes, no shared interpreter state
    with context.Pool(8) as pool:
        pool.starmap(_write, [(str(tmp_path / "warm-up"), "warm-up", 0.0)] * 8)  # imports done
        for batch in range(25):  # 200 writes, 8 released together each time
            start = time.time() + 0.1
            tags = [f"run-{batch}-{i}" for i in range(8)]
            failures = pool.starmap(_write, [(str(folder), tag, start) for tag in tags])
            assert not any(failures), [f for f in failures if f][:3]
            found = {(folder / name).read_text() for name in NAMES}
            found.add(read_run_record(folder).workflow)
            assert len(found) == 1, f"batch {batch}: the folder mixes runs {sorted(found)}"
            assert sorted(p.name for p in folder.iterdir()) == sorted([*NAMES, "run.json"])
