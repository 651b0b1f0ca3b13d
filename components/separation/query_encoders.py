"""What turns a query into the vector that conditions separation: a registry of encoders.

``sentence``: the offline sentence encoder (``components.sentence``; it knows "dog barking");
``clip-text``: a CLIP text tower; ``clip-image``: the mean CLIP embedding of images or video
frames (the query CLIPSep trains with).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from clipflows.components.errors import EmptyInputError
from clipflows.components.sentence import SentenceEncoder, check_query_texts
from clipflows.components.settings import Settings


class ClipTextQueryEncoder:
    name = "clip-text"

    def __init__(self, settings: Settings | None = None):
        from clipflows.components.clip.encoder import ClipEncoder

        self.encoder = ClipEncoder(settings=settings)
        self.dim = self.encoder.embed_dim

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """[n, dim] unit rows; texts longer than CLIP's context are cut there."""
        return self.encoder.encode_texts(check_query_texts(texts))


class ClipImageQueryEncoder(ClipTextQueryEncoder):
    """Images (or a video's frames) -> their mean CLIP embedding; texts work through CLIP too."""

    name = "clip-image"

    def encode_images(self, paths: list[str]) -> np.ndarray:
        embedded = self.encoder.encode_images(paths)
        if len(embedded) == 0:
            raise EmptyInputError("None of the query images could be read.")
        mean = embedded.vectors.mean(axis=0)
        return (mean / np.linalg.norm(mean))[None].astype(np.float32)


QUERY_ENCODERS: dict[str, Callable[..., object]] = {
    "sentence": SentenceEncoder,
    "clip-text": ClipTextQueryEncoder,
    "clip-image": ClipImageQueryEncoder,
}


def query_encoder(name: str, settings: Settings | None = None):
    if name not in QUERY_ENCODERS:
        raise ValueError(f"Unknown query encoder {name!r}; choose one of {sorted(QUERY_ENCODERS)}.")
    return QUERY_ENCODERS[name](settings)
