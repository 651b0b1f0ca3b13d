"""Progress from inside flows and tasks: throttled log lines a person can follow, and the same
progress as events for whoever watches the run in this process (the web app's progress bar).

A flow names its steps (``Steps``) and says when each starts; counting loops inside tasks
report through ``log_progress``. Events reach a watcher installed with ``watch_progress``: it is
held in a context variable, so it follows the run into the flow and into the tasks a thread
runner starts (Prefect copies the context into them), and never reaches other runs or sessions.
Tasks that run in other processes (Dask) still log; they send no events.
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


_SCOPE: ContextVar[_Scope | None] = ContextVar("clipflows_progress", default=None)
_KEYS = itertools.count()


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
    an outer flow (a flow run by another), the steps share that step's part of the bar."""

    def __init__(self, *names: str):
        self.names = list(names)
        self._parent = _SCOPE.get()

    def start(self, name: str) -> None:
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


def log_progress(label: str, every_s: float = 5.0) -> Callable[..., None]:
    """A callback(done, total, *extra) that logs at most every ``every_s`` seconds, and at the
    end; every call is also an event for a watcher of this run, if any."""
    try:
        logger = get_run_logger()
    except MissingContextError:  # called outside a flow run (a flow's ``.fn``, a test)
        logger = logging.getLogger("clipflows.progress")
    scope, key = _SCOPE.get(), next(_KEYS)
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
            suffix = "".join(f" {value:.4f}" for value in extra)
            logger.info(f"{label}: {done}/{total} ({100 * done / max(total, 1):.0f}%){suffix}")

    return report


class ProgressTracker:
    """A watcher that keeps the latest state of a run: the fraction done and what runs now.

    Counts of one step are summed over its loops (shards encoding at once); the fraction never
    goes back."""

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
                self._detail = f"{event.label}: {event.done}/{event.total}"
            done = sum(d for d, _ in self._counts.values())
            total = sum(t for _, t in self._counts.values())
            within = min(1.0, done / total) if total else 0.0
            start, end = self._range
            self._fraction = max(self._fraction, start + (end - start) * within)

    def snapshot(self) -> tuple[float, str]:
        """(fraction done, in 0..1; the current step and its latest count, in words)."""
        with self._lock:
            text = f"{self._step} · {self._detail}" if self._detail else self._step
            return min(1.0, self._fraction), text
