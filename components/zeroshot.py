"""Zero-shot classification with CLIP: class prompts in, scores out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .clip import ClipEncoder

SINGLE_TEMPLATE = ("a photo of a {}.",)


class ZeroShotClassifier:
    """Scores images against class names; each class embedding is the mean over templates."""

    def __init__(
        self,
        encoder: ClipEncoder,
        class_names: Sequence[str],
        templates: Sequence[str] = SINGLE_TEMPLATE,
    ):
        if not class_names:
            raise ValueError("ZeroShotClassifier needs at least one class name.")
        if not templates or any("{}" not in t for t in templates):
            raise ValueError("Every template must contain '{}' where the class name goes.")
        self.class_names = list(class_names)
        prompts = [t.format(name) for name in self.class_names for t in templates]
        vectors = encoder.encode_texts(prompts).reshape(len(self.class_names), len(templates), -1)
        means = vectors.mean(axis=1)
        self.class_vectors = means / np.linalg.norm(means, axis=1, keepdims=True)

    def scores(self, image_vectors: np.ndarray) -> np.ndarray:
        """Cosine similarity of each image to each class: [n_images, n_classes]."""
        return image_vectors @ self.class_vectors.T

    def predict(self, image_vectors: np.ndarray) -> list[str]:
        return [self.class_names[i] for i in self.scores(image_vectors).argmax(axis=1)]
