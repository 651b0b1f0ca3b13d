"""A failed task runs again unless the LLM is unavailable: its client already retried within the
bound its error states (flows/runtime/retries.py)."""

from __future__ import annotations

import pytest
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from clipflows.agents.llm import LLMUnavailableError
from clipflows.flows.runtime.retries import retry_unless_llm_unavailable


def _attempts(error: Exception) -> int:
    tried: list[int] = []

    @task(retries=2, retry_condition_fn=retry_unless_llm_unavailable, cache_policy=NO_CACHE)
    def failing() -> None:
        tried.append(1)
        raise error

    @flow
    def run() -> None:
        failing()

    with pytest.raises(type(error)):
        run()
    return len(tried)


def test_an_unavailable_llm_is_not_asked_again_by_the_task(prefect_harness):
    assert _attempts(LLMUnavailableError("The LLM server at http://x did not answer.")) == 1


def test_any_other_failure_keeps_the_tasks_retries(prefect_harness):
    assert _attempts(ValueError("a bad answer")) == 3
