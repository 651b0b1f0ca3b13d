"""Counting LLM calls: one mechanism (flows/runtime/llm_calls.py) for every flow's tasks."""

from __future__ import annotations

import pytest
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from clipflows.flows.runtime.llm_calls import CallTally, Counted


@task(cache_policy=NO_CACHE)
def asks(question: str, calls: int) -> Counted[str]:
    return Counted(question.upper(), calls)


@task(cache_policy=NO_CACHE)
def forgets_to_count(question: str) -> str:
    return question


@flow(task_runner=ThreadPoolTaskRunner(max_workers=3))
def counted_run() -> tuple[list[str], str, int]:
    tally = CallTally()
    mapped = tally.take_all(asks.map(["a", "b", "c"], [1, 2, 3]))
    single = tally.take(asks("d", 4))
    return mapped, single, tally.calls


def test_a_tally_takes_values_out_of_futures_and_answers_and_adds_their_calls(prefect_harness):
    mapped, single, calls = counted_run()
    assert mapped == ["A", "B", "C"] and single == "D"
    assert calls == 10


def test_an_llm_task_that_does_not_count_is_refused(prefect_harness):
    @flow
    def careless() -> str:
        return CallTally().take(forgets_to_count("a"))

    with pytest.raises(TypeError, match="must return Counted, not str"):
        careless()
