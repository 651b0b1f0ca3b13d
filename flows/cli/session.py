"""How a command runs its flow and reports a failure: one ``Error:`` line, tracebacks kept for
``--verbose`` and the log file.

A command checks its inputs first, then runs its flow inside :func:`flow_session`: only there is
Prefect imported, and its temporary server starts (on the flow's first API call) with a start-up
timeout suited to a busy machine. On the console Prefect keeps its progress lines, but not
tracebacks, nor the error records of failed flow and task runs: the command's ``Error:`` line says
what failed. ``--verbose`` shows them all; the log file always has them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
import time
import traceback
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from logging.handlers import RotatingFileHandler
from pathlib import Path

# Prefect's temporary server starts in seconds on an idle machine; its default wait (20 s) was
# passed on a loaded one ("Timed out while attempting to connect to ephemeral Prefect API server").
EPHEMERAL_STARTUP_TIMEOUT_S = 180
# The log file is rotated by the standard library's RotatingFileHandler: a write that would take
# it past LOG_FILE_LIMIT bytes first moves it to clipflows.log.1 (replacing the older one).
LOG_FILE_LIMIT = 5_000_000
LOG_FILE_BACKUPS = 1
_RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


def default_log_file() -> Path:
    """The user's log folder for clipflows (XDG state on Linux)."""
    import platformdirs

    return platformdirs.user_log_path("clipflows") / "clipflows.log"


@dataclass
class CliState:
    """The app-wide options (``clipflows --verbose --log-file FILE COMMAND``) of one run."""

    verbose: bool = False
    log_file: Path | None = field(default_factory=default_log_file)  # None: no log file
    log_started: bool = False  # this run has written its header to the log file


# The running command's state, set by the app's callback (as click keeps its current context).
_state: ContextVar[CliState | None] = ContextVar("clipflows_cli_state", default=None)


def use_state(state: CliState) -> None:
    """Make ``state`` the running command's (the app's callback does, before the command)."""
    _state.set(state)


def current_state() -> CliState:
    """The running command's state; outside a command (a direct call), no --verbose and no
    log file."""
    return _state.get() or CliState(log_file=None)


class _LogFormat(logging.Formatter):
    """Log records with their time, level and logger; a command's own text (its run header, a
    traceback) as written."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = getattr(record, "clipflows_text", None)
        return super().format(record) if text is None else text.removesuffix("\n")


class _LogFile(RotatingFileHandler):
    """The log file, opened on the first write and rotated at LOG_FILE_LIMIT. A write that fails
    sets ``failed`` instead of printing logging's error report: the log never stops a command,
    and the terminal keeps its one ``Error:`` line."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            path,
            maxBytes=LOG_FILE_LIMIT,
            backupCount=LOG_FILE_BACKUPS,
            encoding="utf-8",
            delay=True,
        )
        self.failed = False
        self.setFormatter(_LogFormat())

    def handleError(self, record: logging.LogRecord) -> None:
        self.failed = True


def log_line(state: CliState, text: str) -> bool:
    """Append ``text`` to the log file (a header first, once per run); False if it cannot be
    written, which never stops a command."""
    if state.log_file is None:
        return False
    try:
        state.log_file.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    if not state.log_started:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        text = f"--- {stamp} clipflows {' '.join(sys.argv[1:])} (pid {os.getpid()})\n{text}"
        state.log_started = True
    record = logging.makeLogRecord(
        {"name": "clipflows", "levelno": logging.INFO, "levelname": "INFO", "clipflows_text": text}
    )
    handler = _LogFile(state.log_file)
    try:
        handler.handle(record)
    finally:
        handler.close()
    return not handler.failed


def log_failure(state: CliState, error: BaseException) -> bool:
    """The failure's traceback into the log file."""
    return log_line(state, "".join(traceback.format_exception(error)))


class _WithoutTraceback(logging.Formatter):
    """Formats a record as ``inner`` does, leaving out its traceback and stack."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def _not_a_run_failure(record: logging.LogRecord) -> bool:
    """False for a failed flow or task run's error records (the command reports the failure)."""
    return record.levelno < logging.ERROR or not record.name.startswith(_RUN_LOGGERS)


@contextlib.contextmanager
def _console_and_file(state: CliState) -> Iterator[None]:
    """Prefect's console handlers quietened unless --verbose, and every record in the log file;
    both undone on exit. Prefect configures logging on import, so this runs after it."""
    root = logging.getLogger()
    consoles = [
        h
        for h in root.handlers
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
    ]
    saved = [(h, h.formatter) for h in consoles]
    if not state.verbose:
        for handler in consoles:
            handler.setFormatter(_WithoutTraceback(handler.formatter))
            handler.addFilter(_not_a_run_failure)
    to_file = None
    if log_line(state, ""):
        to_file = _LogFile(state.log_file)
        root.addHandler(to_file)
    try:
        yield
    finally:
        for handler, formatter in saved:
            handler.setFormatter(formatter)
            handler.removeFilter(_not_a_run_failure)
        if to_file is not None:
            root.removeHandler(to_file)
            to_file.close()


@contextlib.contextmanager
def quiet_libraries(state: CliState | None = None) -> Iterator[None]:
    """Unless --verbose, libraries' own notices kept off the terminal for this block: the
    warnings of transformers (its LOAD REPORT table) and its "Loading weights" bars, and
    xFormers' warning that its extensions do not match this torch. Set through their public
    logging APIs and restored on exit; errors still show, and downloads keep their bars."""
    state = state or current_state()
    if state.verbose:
        yield
        return
    xformers = logging.getLogger("xformers")
    xformers_level = xformers.level
    xformers.setLevel(logging.ERROR)
    restore = None
    if importlib.util.find_spec("transformers") is not None:
        from huggingface_hub.utils import are_progress_bars_disabled, enable_progress_bars
        from transformers.utils import logging as transformers_logging

        verbosity = transformers_logging.get_verbosity()
        bars = transformers_logging.is_progress_bar_enabled()
        hub_bars = not are_progress_bars_disabled()
        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()  # turns the hub's bars off too
        if hub_bars:
            enable_progress_bars()

        def restore() -> None:
            transformers_logging.set_verbosity(verbosity)
            if bars:
                transformers_logging.enable_progress_bar()

    try:
        yield
    finally:
        xformers.setLevel(xformers_level)
        if restore is not None:
            restore()


@contextlib.contextmanager
def flow_session() -> Iterator[None]:
    """Run flows under Prefect settings for the command line, without tracebacks on the
    console (unless --verbose), with every log record in the log file.

    The temporary server's start-up timeout and disabled analytics are defaults for this block
    only (Prefect's ``temporary_settings``, which the server process inherits); values set in
    the environment or a Prefect profile win. A server that still does not start is one error
    saying what to do. Libraries' notices are quietened (:func:`quiet_libraries`).
    """
    state = current_state()
    import prefect  # noqa: F401 - configures Prefect's logging, which _console_and_file adjusts

    from clipflows.flows.runtime.temporary_server import tie_temporary_server

    tie_temporary_server()  # a killed command leaves no temporary Prefect server behind
    from prefect.settings import (
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    defaults = {
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: EPHEMERAL_STARTUP_TIMEOUT_S,
        PREFECT_SERVER_ANALYTICS_ENABLED: False,  # an offline machine must not try to phone home
    }
    with (
        temporary_settings(set_defaults=defaults),
        _console_and_file(state),
        quiet_libraries(state),
    ):
        try:
            yield
        except RuntimeError as error:
            if "ephemeral Prefect API server" not in str(error):
                raise
            from clipflows.components.errors import ClipflowsError

            waited = PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
            raise ClipflowsError(
                f"Prefect's temporary server did not start within {waited} s (a busy machine?). "
                "Set PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS higher, or start a server "
                "once (`prefect server start`) and set PREFECT_API_URL to its API "
                "(http://127.0.0.1:4200/api)."
            ) from error
