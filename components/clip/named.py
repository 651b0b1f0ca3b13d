"""Named CLIP specs: a name (``world``) that a resolver turns into a concrete spec when used.

The table maps each name to the ``module:function`` that resolves it, imported only when the
name is used, so this package never imports the packages that define names (the world trains
its own CLIP and sits above clip/). A resolver takes settings and a device and returns a spec
string, typically ``local-dir:...``; adding a named model is adding a row.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from clipflows.components.errors import SpecError
from clipflows.components.settings import Settings

if TYPE_CHECKING:
    import torch

NAMED_SPECS: dict[str, str] = {
    "world": "clipflows.components.world.model:resolve_world_spec",
}

Resolver = Callable[[Settings, "torch.device"], str]


def resolve_named(name: str, settings: Settings, device: torch.device) -> str:
    """The concrete spec a name stands for (this may train the model on first use)."""
    if name not in NAMED_SPECS:
        raise SpecError(f"No named CLIP spec {name!r}; named specs: {', '.join(NAMED_SPECS)}.")
    module, _, attribute = NAMED_SPECS[name].partition(":")
    resolver: Resolver = getattr(importlib.import_module(module), attribute)
    return resolver(settings, device)
