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
    from PIL import Image

NAMED_SPECS: dict[str, str] = {
    "world": "clipflows.components.world.model:resolve_world_spec",
}

Resolver = Callable[[Settings, "torch.device"], str]

# Named models trained on a narrow domain: what it is, in words, and the ``module:function``
# that says whether one RGB image belongs to it, so a flow can tell a user when their images
# are outside what the model knows.
NAMED_DOMAINS: dict[str, tuple[str, str]] = {
    "world": (
        "coloured shapes on plain backgrounds",
        "clipflows.components.world.scenes:looks_rendered",
    ),
}


def resolve_named(name: str, settings: Settings, device: torch.device) -> str:
    """The concrete spec a name stands for (this may train the model on first use)."""
    if name not in NAMED_SPECS:
        raise SpecError(f"No named CLIP spec {name!r}; named specs: {', '.join(NAMED_SPECS)}.")
    module, _, attribute = NAMED_SPECS[name].partition(":")
    resolver: Resolver = getattr(importlib.import_module(module), attribute)
    return resolver(settings, device)


def named_domain(name: str) -> tuple[str, Callable[[Image.Image], bool]] | None:
    """A narrow named model's domain in words and its test of one image; None for others."""
    if name not in NAMED_DOMAINS:
        return None
    words, path = NAMED_DOMAINS[name]
    module, _, attribute = path.partition(":")
    return words, getattr(importlib.import_module(module), attribute)
