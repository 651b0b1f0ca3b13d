"""The models the pages use: the same per-process store the flows use (``worker_models``), so a
page's histogram and the run it shows share one loaded CLIP."""

from __future__ import annotations

from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.settings import Settings
from clipflows.flows.runtime.worker_models import worker_encoder


def clip_encoder(settings: Settings) -> ClipEncoder:
    """The CLIP encoder of the settings' spec, loaded once per process (the world CLIP trains
    on first use)."""
    return worker_encoder(settings)
