"""When a failed Prefect task is worth running again."""

from __future__ import annotations

from typing import Any

from clipflows.agents.llm import LLMUnavailableError


def retry_unless_llm_unavailable(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a failed task, except when the LLM is unavailable: its client has already retried
    each request (llm.request_retries, with backoff) within the bound its error states, so a
    task retry would only double the wait for the same answer."""
    try:
        state.result()
    except LLMUnavailableError:
        return False
    except BaseException:  # noqa: BLE001 - any other failure keeps the task's retries
        return True
    return True
