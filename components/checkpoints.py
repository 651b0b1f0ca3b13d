"""Resumable training state: one checkpoint format and one resume guard for every training loop.

A checkpoint holds the model, optimizer and scheduler state, the step reached, any extras the
loop needs to continue exactly (losses, a sampler's state), and a run key: the hash of the
training config and the training data. Resuming with another config or other data would mix
two runs silently, so it is refused with a message that says what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from clipflows.components.cache import stable_hash
from clipflows.components.errors import ClipflowsError
from clipflows.components.files import torch_save_whole

FORMAT = 2


class CheckpointMismatchError(ClipflowsError):
    """A checkpoint was written by a run with another config or other data."""


def run_key(config: Any, data: str) -> str:
    """The identity of a training run: its config (a JSON-able value) and a data fingerprint."""
    return stable_hash({"config": config, "data": data})


def save_checkpoint(
    path: Path,
    key: str,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    **extra: Any,
) -> None:
    """Write the training state after ``step`` steps, whole."""
    state = {
        "format": FORMAT,
        "run_key": key,
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        **extra,
    }
    torch_save_whole(state, path)


def load_checkpoint(
    path: Path,
    key: str,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    map_location: Any = None,
) -> dict[str, Any] | None:
    """Restore model, optimizer and scheduler from ``path`` and return the whole state (``step``
    and the extras); None when there is no checkpoint. CheckpointMismatchError when it belongs
    to another run."""
    if not path.is_file():
        return None
    state = torch.load(path, map_location=map_location, weights_only=False)
    if not isinstance(state, dict) or state.get("run_key") != key:
        raise CheckpointMismatchError(
            f"{path} was written by a training run with another config or other data (or an "
            "older clipflows); resuming would mix the two. Choose another output folder, or "
            f"delete {path.name} there to start over."
        )
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    return state
