"""Counting the LLM calls of a flow's tasks, wherever the tasks run.

A task's LLM lives in its worker, perhaps another process, so its count travels back with the
task's answer: every task that asks an LLM returns ``Counted(value, calls)``, and the flow's
``CallTally`` takes the value out and adds the calls. Flows read their steps' values, not
``(value, calls)`` tuples, and every flow counts the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Counted(Generic[T]):
    """A task's answer and the LLM calls it made (cache hits are not calls)."""

    value: T
    calls: int


class CallTally:
    """The LLM calls a run's tasks made, added up as their answers are taken."""

    def __init__(self) -> None:
        self.calls = 0

    def take(self, answer: Counted[T] | Any) -> T:
        """The value of a task's answer (or of its future), its calls added to the tally."""
        counted = answer.result() if hasattr(answer, "result") else answer
        if not isinstance(counted, Counted):
            raise TypeError(f"An LLM task must return Counted, not {type(counted).__name__}.")
        self.calls += counted.calls
        return counted.value

    def take_all(self, answers: Iterable[Counted[T] | Any]) -> list[T]:
        """The values of several answers or futures, in their order."""
        return [self.take(answer) for answer in answers]
