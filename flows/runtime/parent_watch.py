"""A child process that ends with the process that started it, even a killed one.

A parent killed with SIGKILL (or by the OOM killer) stops nothing, so a child it started (the
temporary Prefect server, the web app under ``clipflows ui``) keeps running. The child runs
``start_parent_watch(parent)`` first: a thread that notices when its parent pid changes and
stops the process, SIGTERM first, then for good after a grace period. It watches the pid it was
given, not "parent is init", so a child whose parent is alive never stops itself.
"""

from __future__ import annotations

import os
import signal
import threading
import time

WATCH_EVERY_S = 0.5
GRACE_S = 10.0  # for the process's own shutdown after SIGTERM, then it ends anyway


def watch_parent(parent: int, every_s: float = WATCH_EVERY_S, grace_s: float = GRACE_S) -> None:
    """Block until this process's parent is no longer ``parent``, then stop this process:
    SIGTERM first (a server shuts down cleanly), and exit after ``grace_s`` if that hangs."""
    while os.getppid() == parent:
        time.sleep(every_s)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(grace_s)
    os._exit(1)


def start_parent_watch(parent: int) -> bool:
    """Watch ``parent`` from a daemon thread; False (and no thread) when it is already gone."""
    if os.getppid() != parent:
        return False
    threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()
    return True
