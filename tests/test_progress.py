"""Progress: a flow's steps and the counts inside its tasks reach whoever watches the run (the
web app's progress bar), and only them."""

from __future__ import annotations

import contextvars
import re
import threading

import pytest
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from clipflows.flows.runtime.chunks import Written, in_chunks
from clipflows.flows.runtime.llm_calls import Counted
from clipflows.flows.runtime.progress import (
    ProgressEvent,
    ProgressTracker,
    Steps,
    counted_together,
    log_progress,
    watch_progress,
)


@task
def count_task(label: str, n: int) -> None:
    report = log_progress(label)
    for done in range(1, n + 1):
        report(done, n)


@flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
def two_steps(n: int) -> None:
    steps = Steps("first", "second")
    steps.start("first")
    futures = [count_task.submit("shard 1", n), count_task.submit("shard 2", n)]
    for future in futures:  # tasks in the runner's threads
        future.result()
    steps.start("second")


@flow
def outer() -> None:
    steps = Steps("prepare", "inner")
    steps.start("prepare")
    steps.start("inner")
    two_steps(1)  # a flow run by a flow: its steps share the outer step


def test_a_watched_flow_reports_its_steps_and_the_counts_of_its_tasks(prefect_harness):
    events: list[ProgressEvent] = []
    with watch_progress(events.append):
        two_steps(3)
    assert [e.step for e in events if e.key is None] == [
        "first (step 1 of 2)",
        "second (step 2 of 2)",
    ]
    counts = [e for e in events if e.key is not None]
    assert len(counts) == 6 and {(e.start, e.end) for e in counts} == {(0.0, 0.5)}
    assert {e.label for e in counts} == {"shard 1", "shard 2"}


def test_runs_nobody_watches_send_nothing_to_a_watched_one(prefect_harness):
    events: list[ProgressEvent] = []
    other = threading.Thread(target=two_steps, args=(5,))  # another session's run
    other.start()
    with watch_progress(events.append):
        two_steps(2)
    other.join()
    assert len([e for e in events if e.key is not None]) == 4


def test_steps_of_a_flow_inside_a_flow_share_the_outer_step(prefect_harness):
    tracker = ProgressTracker()
    seen: list[tuple[float, str]] = []

    def watcher(event: ProgressEvent) -> None:
        tracker(event)
        seen.append(tracker.snapshot())

    with watch_progress(watcher):
        outer()
    steps = [text for _, text in seen]
    assert "inner (step 2 of 2): second (step 2 of 2)" in steps
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 0.75  # the inner flow's last step


def test_the_tracker_sums_loops_running_at_once_and_never_goes_back():
    tracker = ProgressTracker()
    step = ProgressEvent("encode (step 2 of 4)", 0.25, 0.5)
    tracker(step)
    assert tracker.snapshot() == (0.25, "encode (step 2 of 4)")
    tracker(ProgressEvent(step.step, 0.25, 0.5, key=2, label="shard 2", done=0, total=10))
    tracker(ProgressEvent(step.step, 0.25, 0.5, key=1, label="shard 1", done=5, total=10))
    fraction, text = tracker.snapshot()
    assert fraction == 0.25 + 0.25 * 5 / 20 and text == "encode (step 2 of 4) · 2 parts: 5/20"
    tracker(ProgressEvent("rank (step 3 of 4)", 0.5, 0.75))
    tracker(ProgressEvent(step.step, 0.25, 0.5, key=1, label="shard 1", done=6, total=10))
    assert tracker.snapshot() == (0.5, "rank (step 3 of 4)")  # a late count of an earlier step


class _Shown:
    """What a progress bar shows, event after event (as the page's bar polls the tracker)."""

    def __init__(self) -> None:
        self.tracker, self.seen, self._lock = ProgressTracker(), [], threading.Lock()

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            self.tracker(event)
            self.seen.append(self.tracker.snapshot())

    def counts(self) -> list[tuple[int, int]]:
        found = (re.search(r"(\d+)/(\d+)$", text) for _, text in self.seen)
        return [(int(m[1]), int(m[2])) for m in found if m]


def test_loops_of_parallel_threads_counted_together_add_up_and_never_go_back():
    shown = _Shown()

    def chunk(index: int) -> None:
        report = log_progress(f"chunk {index}")
        for done in range(1, 11):
            report(done, 10)

    with watch_progress(shown):
        steps = Steps("prepare", "describe")
        steps.start("prepare")
        steps.start("describe")
        with counted_together("describe 40 pairs", 40):
            threads = [
                threading.Thread(target=contextvars.copy_context().run, args=(chunk, i))
                for i in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    fractions = [fraction for fraction, _ in shown.seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    counts = shown.counts()
    assert [done for done, _ in counts] == list(range(1, 41))  # one count, one step at a time
    assert {total for _, total in counts} == {40}
    assert shown.seen[-1][1] == "describe (step 2 of 2) · describe 40 pairs: 40/40"


@task(cache_policy=NO_CACHE)
def describe_chunk(pairs: list[int]) -> Counted[Written]:
    report = log_progress(f"describe {len(pairs)} pairs")
    for done, _ in enumerate(pairs, start=1):
        report(done, len(pairs))
    return Counted(Written({pair: str(pair) for pair in pairs}), len(pairs))


@flow(task_runner=ThreadPoolTaskRunner(max_workers=3))
def chunked(pairs: list[int]) -> dict:
    steps = Steps("first pass", "describe the confusable pairs", "second pass")
    steps.start("first pass")
    steps.start("describe the confusable pairs")
    described = in_chunks(describe_chunk, pairs, 4, "pairs", "describe pairs")
    steps.start("second pass")
    return {"results": described.value.done, "calls": described.calls}


def test_chunks_of_a_step_show_one_count_of_all_their_items(prefect_harness):
    shown = _Shown()
    with watch_progress(shown):
        out = chunked(list(range(18)))  # 5 chunks: 4, 4, 4, 4, 2 pairs
    assert len(out["results"]) == 18 and out["calls"] == 18
    during = [(f, t) for f, t in shown.seen if t.startswith("describe the confusable pairs")]
    counts = shown.counts()
    assert [done for done, _ in counts] == sorted(done for done, _ in counts)
    assert {total for _, total in counts} == {18} and counts[-1] == (18, 18)
    assert during[-1][0] == pytest.approx(2 / 3)
    assert during[-1][1] == "describe the confusable pairs (step 2 of 3) · describe pairs: 18/18"
    fractions = [fraction for fraction, _ in shown.seen]
    assert fractions == sorted(fractions)


@pytest.mark.parametrize("watched", [False, True])
def test_a_step_not_declared_is_refused_whether_or_not_anyone_watches(watched):
    def run() -> None:
        steps = Steps("load the models", "encode the images")
        steps.start("load the models")
        steps.start("encode the imgaes")

    if watched:
        with watch_progress(lambda event: None), pytest.raises(ValueError) as error:
            run()
    else:
        with pytest.raises(ValueError) as error:
            run()
    message = str(error.value)
    assert "'encode the imgaes'" in message
    assert "'load the models'" in message and "'encode the images'" in message


def test_a_step_declared_with_its_condition_is_entered_only_when_planned():
    shown = _Shown()
    with watch_progress(shown):
        steps = Steps("encode", ("caption", False), ("judge", True), "report")
        assert steps.names == ["encode", "judge", "report"]  # the bar counts planned steps
        steps.start("encode")
        assert steps.enter("caption") is False
        assert steps.enter("judge") is True
        with pytest.raises(ValueError, match="not planned in this run: ask enter"):
            steps.start("caption")
        with pytest.raises(ValueError, match="Unknown step 'juge'"):
            steps.enter("juge")
    assert [text for _, text in shown.seen] == ["encode (step 1 of 3)", "judge (step 2 of 3)"]
