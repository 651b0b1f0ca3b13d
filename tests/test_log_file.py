"""The command's log file: a header per run, the records of its flows, rotated by the standard
library's RotatingFileHandler at LOG_FILE_LIMIT bytes with one older file kept, and a log that
cannot be written never stops a command nor prints logging's error report."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler

import pytest

from clipflows.flows.cli import session
from clipflows.flows.cli.session import CliState, _console_and_file, log_failure, log_line

LIMIT = 2_000  # bytes: small enough to cross in a test


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(session, "LOG_FILE_LIMIT", LIMIT)
    return LIMIT


def test_a_run_writes_its_header_once_then_its_lines(tmp_path):
    state = CliState(log_file=tmp_path / "logs" / "clipflows.log")  # the folder is made
    assert log_line(state, "first") and log_line(state, "second\n")
    lines = state.log_file.read_text().splitlines()
    assert lines[0].startswith("--- ") and "clipflows" in lines[0] and "(pid " in lines[0]
    assert lines[1:] == ["first", "second"]
    assert state.log_started


def test_a_full_log_file_is_moved_to_dot_one_by_the_next_run(tmp_path, small_limit):
    log = tmp_path / "clipflows.log"
    old = tmp_path / "clipflows.log.1"
    old.write_text("the run before last\n")
    log.write_text("x" * small_limit)
    assert log_line(CliState(log_file=log), "a new run")
    assert old.read_text() == "x" * small_limit  # one older file kept, the oldest dropped
    assert log.read_text().splitlines()[1:] == ["a new run"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clipflows.log", "clipflows.log.1"]


def test_a_log_file_under_the_limit_is_appended_to(tmp_path, small_limit):
    log = tmp_path / "clipflows.log"
    log.write_text("an earlier run\n")
    assert log_line(CliState(log_file=log), "this run")
    assert log.read_text().startswith("an earlier run\n--- ")
    assert not (tmp_path / "clipflows.log.1").exists()


def test_the_flow_records_go_to_the_log_file_which_rotates_within_a_run(tmp_path, small_limit):
    state = CliState(log_file=tmp_path / "clipflows.log")
    logger = logging.getLogger("clipflows.test_log_file")
    logger.setLevel(logging.INFO)
    with _console_and_file(state):
        handlers = [h for h in logging.getLogger().handlers if isinstance(h, RotatingFileHandler)]
        assert len(handlers) == 1 and handlers[0].maxBytes == small_limit
        for index in range(100):  # about 6 KB of records
            logger.info("record %03d of a long run", index)
    assert not any(isinstance(h, RotatingFileHandler) for h in logging.getLogger().handlers)
    newest = state.log_file.read_text().splitlines()
    assert newest[-1].endswith("INFO clipflows.test_log_file: record 099 of a long run")
    assert state.log_file.stat().st_size < small_limit
    assert (tmp_path / "clipflows.log.1").stat().st_size < small_limit


def test_a_traceback_is_written_whole_after_the_header(tmp_path):
    state = CliState(log_file=tmp_path / "clipflows.log")
    try:
        raise KeyError("an unexpected key")
    except KeyError as error:
        assert log_failure(state, error)
    text = state.log_file.read_text()
    assert "Traceback (most recent call last)" in text and text.endswith("an unexpected key'\n")


def test_a_log_file_that_cannot_be_written_is_false_and_silent(tmp_path, capsys):
    (tmp_path / "clipflows.log").mkdir()  # a folder where the file should be
    assert not log_line(CliState(log_file=tmp_path / "clipflows.log"), "lost")
    (tmp_path / "a-file").write_text("")
    assert not log_line(CliState(log_file=tmp_path / "a-file" / "clipflows.log"), "lost")
    assert capsys.readouterr().err == ""  # no "--- Logging error ---" report
    assert not log_line(CliState(log_file=None), "nowhere")
