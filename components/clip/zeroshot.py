"""Zero-shot classification with CLIP: class prompts in, scores and ambiguity sets out."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from clipflows.components.clip.encoder import ClipEncoder

SINGLE_TEMPLATE = ("a photo of a {}.",)
CLASS_NAME_ONLY = ("{}",)


def _openai_templates() -> tuple[str, ...]:
    """The 80 prompt templates of the CLIP paper, as open_clip ships them (no copy here)."""
    from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES

    return tuple(template("{}") for template in OPENAI_IMAGENET_TEMPLATES)


TEMPLATE_SETS: dict[str, Callable[[], tuple[str, ...]]] = {
    "name": lambda: CLASS_NAME_ONLY,
    "single": lambda: SINGLE_TEMPLATE,
    "ensemble80": _openai_templates,
}


def templates_for(name_or_templates: str | Sequence[str]) -> tuple[str, ...]:
    """A named template set (name, single, ensemble80) or the given custom templates."""
    if isinstance(name_or_templates, str):
        if name_or_templates not in TEMPLATE_SETS:
            raise ValueError(
                f"Unknown template set {name_or_templates!r}; use one of {sorted(TEMPLATE_SETS)} "
                "or a list of templates containing '{}'."
            )
        return TEMPLATE_SETS[name_or_templates]()
    return tuple(name_or_templates)


class ZeroShotClassifier:
    """Scores images against class names; each class embedding is the mean over templates."""

    def __init__(
        self,
        encoder: ClipEncoder,
        class_names: Sequence[str],
        templates: str | Sequence[str] = SINGLE_TEMPLATE,
    ):
        templates = templates_for(templates)
        if not class_names:
            raise ValueError("ZeroShotClassifier needs at least one class name.")
        if not templates or any("{}" not in t for t in templates):
            raise ValueError("Every template must contain '{}' where the class name goes.")
        self.class_names = list(class_names)
        self.templates = templates
        prompts = [t.format(name) for name in self.class_names for t in templates]
        vectors = encoder.encode_texts(prompts).reshape(len(self.class_names), len(templates), -1)
        self.class_vectors = normalise_rows(vectors.mean(axis=1))

    def scores(self, image_vectors: np.ndarray) -> np.ndarray:
        """Cosine similarity of each image to each class: [n_images, n_classes]."""
        return image_vectors @ self.class_vectors.T

    def predict(self, image_vectors: np.ndarray) -> list[str]:
        return [self.class_names[i] for i in self.scores(image_vectors).argmax(axis=1)]


def ambiguity_sets(scores: np.ndarray, k: int) -> np.ndarray:
    """Each image's k highest-scoring classes, best first: [n_images, min(k, n_classes)]."""
    if k < 1:
        raise ValueError("An ambiguity set needs k >= 1.")
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(top, order, axis=1)


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)
