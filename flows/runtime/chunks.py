"""LLM work cut into chunks that the flow's task runner asks concurrently, merged in order.

A describe task takes one chunk of items (class pairs, tracks) and returns what it wrote and
what failed, with its LLM calls: ``Counted(Written(...), calls)`` (flows/runtime/llm_calls.py).
:func:`in_chunks` submits every chunk at once and merges them in chunk order, so any runner gives
the result a single task would. The chunks' progress is one count of all the items
(``counted_together``), not one per chunk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prefect import unmapped

from clipflows.flows.runtime.llm_calls import CallTally, Counted
from clipflows.flows.runtime.progress import counted_together


@dataclass
class Written:
    """What a chunk's LLM wrote, by item, and the items that failed, with why."""

    done: dict = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def in_chunks(
    task: Any,
    items: Sequence | Mapping,
    size: int,
    argument: str,
    progress_label: str | None = None,
    **shared: Any,
) -> Counted[Written]:
    """Run ``task`` on chunks of ``size`` items (passed as ``argument``; a mapping is cut into
    smaller mappings), ``shared`` keyword arguments going to every chunk; returns what they
    wrote, merged, and their LLM calls. Progress shows as ``progress_label`` (default: the task's
    name) with the items done in all chunks together."""
    if size < 1:
        raise ValueError(f"A chunk needs at least one item, not {size}.")
    listed = list(items.items()) if isinstance(items, Mapping) else list(items)
    chunks = [listed[start : start + size] for start in range(0, len(listed), size)]
    if isinstance(items, Mapping):
        chunks = [dict(chunk) for chunk in chunks]
    merged, tally = Written(), CallTally()
    with counted_together(progress_label or task.name, len(listed)):
        futures = task.map(**{argument: chunks}, **{k: unmapped(v) for k, v in shared.items()})
        for written in tally.take_all(futures):
            merged.done.update(written.done)
            merged.failed.update(written.failed)
    return Counted(merged, tally.calls)
