"""Progress from inside flows and tasks: throttled log lines a person can follow, and the same
progress as events for whoever watches the run in this process (the web app's progress bar).

A flow names its steps (``Steps``) and says when each starts; counting loops inside tasks
report through ``log_progress``. Events reach a watcher installed with ``watch_progress``: it is
held in a context variable, so it follows the run into the flow and into the tasks a thread
runner starts (Prefect copies the context into them), and never reaches other runs or sessions.
Tasks that run in other processes (Dask) still log; they send no events.

Work cut into parallel chunks or shards is counted inside ``counted_together``: their loops add
up to one count of the whole step, known in full from the start, so neither the count nor the
bar goes back when another chunk reports or starts.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from prefect import get_run_logger
from prefect.exceptions import MissingContextError


@dataclass(frozen=True)
class ProgressEvent:
    """A step started (``key`` None), or a count inside the step that spans [start, end]."""

    step: str
    start: float  # the step's share of the whole run, as fractions of it
    end: float
    key: int | None = None  # one counting loop (several may run at once: image shards)
    label: str = ""
    done: int = 0
    total: int = 0


@dataclass(frozen=True)
class _Scope:
    watcher: Callable[[ProgressEvent], None]
    step: str
    start: float
    end: float


_KEYS = itertools.count()
_Logger = logging.Logger | logging.LoggerAdapter


class _Together:
    """One count shared by the loops of parallel chunks: each loop's latest count, summed."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.key = label, total, next(_KEYS)
        self.lock = threading.Lock()
        self.loops: dict[object, int] = {}
        self.last_logged = 0.0

    def add(self, loop: object, done: int) -> int:
        """Record ``loop``'s count (callers hold ``lock``); returns the combined count."""
        self.loops[loop] = done
        return min(self.total, sum(self.loops.values()))


_SCOPE: ContextVar[_Scope | None] = ContextVar("clipflows_progress", default=None)
_TOGETHER: ContextVar[_Together | None] = ContextVar("clipflows_together", default=None)


@contextmanager
def watch_progress(watcher: Callable[[ProgressEvent], None]) -> Iterator[None]:
    """Send the progress of the flows run inside this block to ``watcher`` (called from the
    flow's and its tasks' threads: it must be quick and thread-safe)."""
    token = _SCOPE.set(_Scope(watcher, "", 0.0, 1.0))
    try:
        yield
    finally:
        _SCOPE.reset(token)


class Steps:
    """A flow's steps in order; ``start(name)`` says which one runs now. Inside a watched step of
    an outer flow (a flow run by another), the steps share that step's part of the bar.

    A step this run may skip is declared ``(name, planned)``: the condition is written once, and
    the flow asks ``enter(name)`` whether to run it."""

    def __init__(self, *steps: str | tuple[str, bool]):
        declared = [(step, True) if isinstance(step, str) else step for step in steps]
        self.names = [name for name, planned in declared if planned]
        self._skipped = {name for name, planned in declared if not planned}
        self._parent = _SCOPE.get()

    def enter(self, name: str) -> bool:
        """Start ``name`` and return True when this run plans it; False when it skips it."""
        if name in self._skipped:
            return False
        self.start(name)
        return True

    def start(self, name: str) -> None:
        """Mark ``name`` as the step that runs now; a name not declared is a ValueError, watched
        or not, so a misspelt step fails in tests and the CLI as it would in the web app."""
        if name in self._skipped:
            raise ValueError(f"Step {name!r} is not planned in this run: ask enter({name!r}).")
        if name not in self.names:
            known = [*self.names, *sorted(self._skipped)]
            raise ValueError(f"Unknown step {name!r}; this flow's steps are {known}.")
        parent = self._parent
        if parent is None:
            return
        number = self.names.index(name)
        width = (parent.end - parent.start) / len(self.names)
        text = f"{name} (step {number + 1} of {len(self.names)})"
        if parent.step:
            text = f"{parent.step}: {text}"
        start = parent.start + number * width
        scope = _Scope(parent.watcher, text, start, start + width)
        _SCOPE.set(scope)
        scope.watcher(ProgressEvent(scope.step, scope.start, scope.end))


@contextmanager
def counted_together(label: str, total: int) -> Iterator[None]:
    """Count the ``log_progress`` loops started inside this block (in the tasks submitted here,
    one loop per task, each counting its own items) as one count of ``total`` items: parallel
    chunks add up instead of each showing its own count."""
    token = _TOGETHER.set(_Together(label, total))
    try:
        yield
    finally:
        _TOGETHER.reset(token)


def log_progress(label: str, every_s: float = 5.0) -> Callable[..., None]:
    """A callback(done, total, *extra) that logs at most every ``every_s`` seconds, and at the
    end; every call is also an event for a watcher of this run, if any. Inside
    ``counted_together`` the count logged and sent is the combined one of all its loops."""
    try:
        logger = get_run_logger()
    except MissingContextError:  # called outside a flow run (a flow's ``.fn``, a test)
        logger = logging.getLogger("clipflows.progress")
    scope, together = _SCOPE.get(), _TOGETHER.get()
    if together is not None:
        return _report_together(together, scope, logger, every_s)
    key = next(_KEYS)
    last = 0.0

    def report(done: int, total: int, *extra: float) -> None:
        nonlocal last
        if scope is not None:
            scope.watcher(
                ProgressEvent(scope.step, scope.start, scope.end, key, label, done, total)
            )
        now = time.monotonic()
        if done == total or now - last >= every_s:
            last = now
            _log(logger, label, done, total, extra)

    return report


def _report_together(
    together: _Together, scope: _Scope | None, logger: _Logger, every_s: float
) -> Callable[..., None]:
    """A loop's callback that adds its count to ``together``'s. A task's retry counts again
    from zero in its own task run's place, not on top of the failed try."""
    loop = _task_run_id() or next(_KEYS)

    def report(done: int, total: int, *extra: float) -> None:
        with together.lock:  # sent in order: the combined count never goes back
            combined = together.add(loop, done)
            if scope is not None:
                scope.watcher(
                    ProgressEvent(
                        scope.step,
                        scope.start,
                        scope.end,
                        together.key,
                        together.label,
                        combined,
                        together.total,
                    )
                )
            now = time.monotonic()
            if combined == together.total or now - together.last_logged >= every_s:
                together.last_logged = now
                _log(logger, together.label, combined, together.total, extra)

    return report


def _task_run_id() -> object | None:
    """The id of the Prefect task run this code runs in, or None outside one."""
    from prefect.context import TaskRunContext

    context = TaskRunContext.get()
    return context.task_run.id if context is not None else None


def _log(logger: _Logger, label: str, done: int, total: int, extra: tuple) -> None:
    suffix = "".join(f" {value:.4f}" for value in extra)
    logger.info(f"{label}: {done}/{total} ({100 * done / max(total, 1):.0f}%){suffix}")


class ProgressTracker:
    """A watcher that keeps the latest state of a run: the fraction done and what runs now.

    Counts of one step are summed over its loops (shards encoding at once) and shown as one
    count; the fraction never goes back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._step, self._detail = "Starting", ""
        self._range = (0.0, 1.0)
        self._counts: dict[int, tuple[int, int]] = {}
        self._fraction = 0.0

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            if event.key is None or (event.start, event.end) != self._range:
                if event.key is not None and event.start < self._range[0]:
                    return  # a loop of an earlier step finishing late
                self._step, self._detail = event.step, ""
                self._range, self._counts = (event.start, event.end), {}
            if event.key is not None:
                self._counts[event.key] = (event.done, event.total)
            done = sum(d for d, _ in self._counts.values())
            total = sum(t for _, t in self._counts.values())
            if len(self._counts) == 1:
                self._detail = f"{event.label}: {done}/{total}"
            elif self._counts:  # loops not counted together: one count of them all
                self._detail = f"{len(self._counts)} parts: {done}/{total}"
            within = min(1.0, done / total) if total else 0.0
            start, end = self._range
            self._fraction = max(self._fraction, start + (end - start) * within)

    def snapshot(self) -> tuple[float, str]:
        """(fraction done, in 0..1; the current step and its latest count, in words)."""
        with self._lock:
            text = f"{self._step} · {self._detail}" if self._detail else self._step
            return min(1.0, self._fraction), text
