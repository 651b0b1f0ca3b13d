"""Reports: written as a set with the run's own record; the Runs list reads the record."""

import os
import threading
from pathlib import Path

import pytest

from clipflows.components.errors import ReportFolderError
from clipflows.components.reports import (
    check_report_folder,
    markdown_table,
    read_run_record,
    write_report,
)
from clipflows.flows.runtime.runs import local_runs


def test_the_runs_list_names_each_workflow_from_the_run_s_record(tmp_path):
    for name, workflow in (
        ("20260101-120000-set-difference-ab12cd", "set-difference"),
        ("20260101-120100-separation-ef34ab", "separation"),
        ("20260101-120200-classify-99aa00", "classify"),
    ):
        write_report(tmp_path / name, workflow, {"result.json": "{}"})
    (tmp_path / "not-a-report").mkdir()
    runs = local_runs(tmp_path)
    assert [r.flow for r in runs] == ["classify", "separation", "set-difference"]
    assert all(r.report and r.started for r in runs)


def test_a_report_is_replaced_as_a_set_or_not_at_all(tmp_path, monkeypatch):
    folder = tmp_path / "report"
    write_report(folder, "set-difference", {"result.json": "old", "report.md": "old"})
    real_write = type(folder).write_text
    calls = []

    def full_disk(self, text, *args, **kwargs):
        # The second file fills the disk half-way through: part of it is on disk, then ENOSPC.
        calls.append(self.name)
        if len(calls) == 2:
            real_write(self, text[: len(text) // 2], *args, **kwargs)
            raise OSError(28, "No space left on device")
        return real_write(self, text, *args, **kwargs)

    monkeypatch.setattr(type(folder), "write_text", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_report(folder, "set-difference", {"result.json": "new", "report.md": "new"})
    monkeypatch.undo()
    assert (folder / "result.json").read_text() == "old"
    assert (folder / "report.md").read_text() == "old"
    assert sorted(p.name for p in folder.iterdir()) == ["report.md", "result.json", "run.json"]
    assert read_run_record(folder).files == ["result.json", "report.md"]


def test_a_new_report_removes_the_earlier_report_s_files_it_does_not_write(tmp_path):
    folder = tmp_path / "report"
    names = ("result.json", "report.md", "report.html")
    write_report(folder, "set-difference", {name: "diff" for name in names})
    (folder / "separated.wav").write_bytes(b"not a report file")  # a run's other output
    write_report(folder, "music-recommend", {"result.json": "music"})
    assert sorted(p.name for p in folder.iterdir()) == ["result.json", "run.json", "separated.wav"]
    assert read_run_record(folder).workflow == "music-recommend"


def test_concurrent_writers_of_one_report_folder_all_succeed_and_leave_one_whole_set(
    tmp_path, monkeypatch
):
    """200 writes, 8 at a time released together: none fails, and after each batch every
    report file and run.json come from one writer (the batch's last), never from several."""
    folder = tmp_path / "report"
    names = ("result.json", "report.md", "report.html")
    real_replace = os.replace

    def slow_replace(source, target):
        threading.Event().wait(0.001)  # widen the window between one writer's renames
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", slow_replace)
    errors = []

    def writer(barrier: threading.Barrier, tag: str) -> None:
        barrier.wait()
        try:
            write_report(folder, tag, {name: tag for name in names})
        except Exception as error:  # noqa: BLE001 (every failure is the finding)
            errors.append(error)

    for batch in range(25):
        barrier = threading.Barrier(8)
        tags = [f"writer-{batch}-{i}" for i in range(8)]
        threads = [threading.Thread(target=writer, args=(barrier, tag)) for tag in tags]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors[:3]
        texts = {(folder / name).read_text() for name in names}
        assert len(texts) == 1, f"batch {batch}: the folder mixes runs {sorted(texts)}"
        assert read_run_record(folder).workflow in texts  # run.json names the same writer
        assert sorted(p.name for p in folder.iterdir()) == sorted([*names, "run.json"])


def test_a_report_folder_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "taken").write_text("x")
    with pytest.raises(ReportFolderError, match="is a file"):
        write_report(tmp_path / "taken", "classify", {"result.json": "{}"})
    with pytest.raises(ReportFolderError, match="is a file"):
        check_report_folder(tmp_path / "taken")
    with pytest.raises(ReportFolderError, match="taken is a file, not a folder"):
        check_report_folder(tmp_path / "taken" / "report")
    assert check_report_folder(tmp_path / "new" / "report") == tmp_path / "new" / "report"
    assert not (tmp_path / "new").exists()  # checked, not made


def test_a_report_folder_that_cannot_be_written_is_refused(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root writes anywhere: ask as an ordinary user would be
        monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked)
    with pytest.raises(ReportFolderError, match="no write permission"):
        check_report_folder(locked / "report")
    assert not (locked / "report").exists()


def test_markdown_tables_escape_pipes():
    lines = markdown_table(["a", "b"], [("x|y", 1)])
    assert lines == ["| a | b |", "|---|---|", "| x\\|y | 1 |"]


def test_the_flows_refuse_a_report_folder_that_is_a_file_before_any_work(tmp_path):
    """Called from Python or the web app, not only the CLI: the check comes before the inputs
    are read or a model loads (here the inputs do not even exist)."""
    from clipflows.components.settings import Settings
    from clipflows.flows.classify import classify
    from clipflows.flows.music_retrieval import recommend
    from clipflows.flows.set_difference import set_difference

    taken = tmp_path / "taken"
    taken.write_text("x")
    settings = Settings(cache_dir=tmp_path / "cache")
    calls = {
        "set_difference": lambda: set_difference.fn("no-a", "no-b", settings, output=str(taken)),
        "classify": lambda: classify.fn("no-such-folder", settings=settings, output=str(taken)),
        "recommend": lambda: recommend.fn(text="calm", settings=settings, output=str(taken)),
    }
    for name, call in calls.items():
        with pytest.raises(ReportFolderError, match="is a file"):
            call()
        assert taken.read_text() == "x", name
    assert not (tmp_path / "cache").exists()


def test_a_file_name_that_is_not_utf8_is_escaped_in_the_report_not_fatal(tmp_path):
    """os.fsdecode turns the name's byte 0xff into a lone surrogate, which UTF-8 cannot hold."""
    name = os.fsdecode(b"photo-\xff.png")
    folder = tmp_path / "report"
    write_report(folder, "set-difference", {"report.md": f"| {name} |", "result.json": "{}"})
    assert (folder / "report.md").read_text(encoding="utf-8") == "| photo-\\xff.png |"
    assert read_run_record(folder).files == ["report.md", "result.json"]  # the hash matches
