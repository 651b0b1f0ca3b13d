"""The record of runs: runs from the terminal, the assistant, deployments and the web app are
listed together, under readable names, and the Runs page serves their reports itself."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from clipflows.components.reports import write_report
from clipflows.flows.runtime.runs import INDEX_FILE, record_run, recorded_runs, run_id


def _report(folder: Path, workflow: str, result: dict | None = None) -> Path:
    write_report(
        folder,
        workflow,
        {
            "result.json": json.dumps(result or {}),
            "report.md": f"# {workflow}\n\nTop difference: red",
            "report.html": f"<html><body><h1>{workflow}</h1><p>Top difference: red</p></body></html>",
        },
    )
    return folder


def test_a_recorded_terminal_run_is_listed_by_workflow_and_title(tmp_path):
    cache = tmp_path / "cache"
    diff = _report(tmp_path / "elsewhere" / "report", "set-difference")
    record_run(cache, "set-difference", "yoga vs meditation", diff)
    classify = _report(tmp_path / "pets-report", "classify")
    record_run(cache, "classify", "pets", classify)
    runs = recorded_runs(cache)
    assert [(r.flow, r.title) for r in runs] == [
        ("classify", "pets"),
        ("set-difference", "yoga vs meditation"),
    ]
    assert runs[1].report == str(diff.resolve()) and runs[1].id == run_id(diff)
    assert all(r.started is not None and r.state == "Completed" for r in runs)


def test_a_folder_written_twice_is_listed_once_and_a_removed_report_not_at_all(tmp_path):
    cache = tmp_path / "cache"
    folder = _report(tmp_path / "report", "set-difference")
    record_run(cache, "set-difference", "a vs b", folder)
    _report(folder, "set-difference")
    record_run(cache, "set-difference", "c vs d", folder)
    gone = _report(tmp_path / "gone", "classify")
    record_run(cache, "classify", "pets", gone)
    for path in gone.iterdir():
        path.unlink()
    with (cache / INDEX_FILE).open("a") as index:
        index.write("not json\n")  # a damaged line is skipped
    assert [(r.flow, r.title) for r in recorded_runs(cache)] == [("set-difference", "c vs d")]


def test_runs_recorded_at_once_from_many_threads_each_keep_a_whole_line(tmp_path):
    cache = tmp_path / "cache"
    folders = [_report(tmp_path / f"r{i}", "classify") for i in range(4)]
    title = "x" * 5000  # longer than one pipe buffer, so a torn write would show

    def record(folder: Path) -> None:
        for _ in range(25):
            record_run(cache, "classify", title, folder)

    threads = [threading.Thread(target=record, args=(f,)) for f in folders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (cache / INDEX_FILE).read_text().splitlines()
    assert len(lines) == 100 and all(json.loads(line)["title"] == title for line in lines)
    assert len(recorded_runs(cache)) == 4


def test_a_record_that_cannot_be_written_does_not_fail_the_run(tmp_path, caplog):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache dir should be")
    record_run(blocker, "classify", "pets", _report(tmp_path / "r", "classify"))
    assert "could not be added" in caplog.text


def test_the_app_s_and_the_assistant_s_report_folders_are_listed_without_a_record(tmp_path):
    cache = tmp_path / "cache"
    names = {"set_a": {"name": "set_a"}, "set_b": {"name": "set_b"}}
    _report(cache / "ui-runs" / "20260101-120000-set-difference-ab12cd", "set-difference", names)
    _report(cache / "assistant-runs" / "20260101-120100-0-classify", "classify")
    runs = recorded_runs(cache)
    assert [(r.flow, r.title) for r in runs] == [
        ("classify", "20260101-120100-0-classify"),
        ("set-difference", "set_a vs set_b"),
    ]


@pytest.fixture
def runs_page(monkeypatch, tmp_path):
    """The Runs page, its settings from the environment as on a server."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    cache = tmp_path / "cache"
    monkeypatch.setenv("CLIPFLOWS_CACHE_DIR", str(cache))
    st.cache_resource.clear()
    page = Path(__file__).resolve().parents[1] / "ui" / "views" / "runs.py"
    yield cache, AppTest.from_file(str(page), default_timeout=120)
    st.cache_resource.clear()


def test_the_runs_page_lists_a_terminal_run_and_serves_its_report_itself(runs_page, tmp_path):
    cache, app = runs_page
    folder = _report(tmp_path / "terminal" / "report", "set-difference")
    record_run(cache, "set-difference", "yoga vs meditation", folder)
    app.run()
    assert not app.exception, app.exception
    assert [e.label.split(" (")[0] for e in app.expander] == ["set-difference: yoga vs meditation"]
    downloads = app.get("download_button")
    assert {d.proto.label for d in downloads} == {"result.json", "report.md", "report.html"}
    page_text = json.dumps([str(e.proto) for e in app.main])
    assert "file://" not in page_text
    assert not app.toggle[0].value and not app.get("iframe")  # shown when asked for


def test_a_run_link_opens_that_run_s_report_on_the_page(runs_page, tmp_path):
    cache, app = runs_page
    folder = _report(tmp_path / "report", "set-difference")
    record_run(cache, "set-difference", "yoga vs meditation", folder)
    app.query_params["run"] = run_id(folder)
    app.run()
    assert not app.exception, app.exception
    assert app.expander[0].proto.expanded and app.toggle[0].value
    frames = app.get("iframe")
    assert len(frames) == 1 and "Top difference: red" in frames[0].proto.srcdoc
