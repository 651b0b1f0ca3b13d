"""Progress reporting from inside tasks: throttled log lines a person can follow."""

from __future__ import annotations

import time
from collections.abc import Callable

from prefect import get_run_logger


def log_progress(label: str, every_s: float = 5.0) -> Callable[..., None]:
    """A callback(done, total, *extra) that logs at most every ``every_s`` seconds, and at the end."""
    logger = get_run_logger()
    last = 0.0

    def report(done: int, total: int, *extra: float) -> None:
        nonlocal last
        now = time.monotonic()
        if done == total or now - last >= every_s:
            last = now
            suffix = "".join(f" {value:.4f}" for value in extra)
            logger.info(f"{label}: {done}/{total} ({100 * done / max(total, 1):.0f}%){suffix}")

    return report
