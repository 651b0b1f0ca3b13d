"""CLIP itself: the spec grammar, loading weights, the cached encoder, zero-shot scoring,
image-caption data and contrastive training.

``from clipflows.components.clip import ClipEncoder`` works; the encoder module (and torch) is
imported only when the name is first used, so ``clip.spec`` stays a light import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clipflows.components.clip.encoder import ClipEncoder, ImageEmbeddings

__all__ = ["ClipEncoder", "ImageEmbeddings"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from clipflows.components.clip import encoder

        return getattr(encoder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
