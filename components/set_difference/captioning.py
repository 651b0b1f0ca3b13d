"""Captioners: one interface, several ways to describe an image in words.

``ClipVocabularyCaptioner`` needs nothing beyond a ClipEncoder (the world's vocabulary is in
``world.vocabulary``): it ranks a phrase vocabulary
against each image and fills a template with the best phrase of each slot. ``BlipCaptioner``
uses a transformers BLIP model when its weights are on this machine. A vision-language model
behind an OpenAI-compatible server lives in ``clipflows.agents.vlm_captioner``. Every captioner
goes through :func:`caption_images`, which caches captions by image content and captioner.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from itertools import product
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

from clipflows.components.cache import JsonCache, sha256_bytes, stable_hash
from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.errors import MissingWeightsError
from clipflows.components.images import ImageDecodeError, read_bytes


class Captioner(Protocol):
    """Anything that turns image files into one caption each."""

    identity: str

    def caption(self, paths: Sequence[Path]) -> list[str]: ...


class CaptionVocabulary(BaseModel):
    """Slots of candidate phrases and a template naming the slots, e.g. '{object} in {scene}'."""

    template: str
    slots: dict[str, list[str]]
    prompt: str = Field(default="a photo of {}.", description="How each phrase is shown to CLIP.")

    def check(self) -> CaptionVocabulary:
        names = {name for _, name, _, _ in string.Formatter().parse(self.template) if name}
        if names != set(self.slots) or any(not phrases for phrases in self.slots.values()):
            raise ValueError(
                f"Template slots {sorted(names)} must match non-empty vocabulary slots "
                f"{sorted(self.slots)}."
            )
        return self


GENERAL_VOCABULARY = CaptionVocabulary(
    template="a {style} of {subject} {scene}, {colour} tones",
    slots={
        "style": ["photo", "close-up photo", "drawing", "painting", "cartoon", "screenshot"],
        "subject": [
            "a person",
            "a group of people",
            "a child",
            "a dog",
            "a cat",
            "a bird",
            "a horse",
            "a car",
            "a bicycle",
            "a boat",
            "an airplane",
            "a train",
            "a building",
            "a house",
            "a tree",
            "flowers",
            "food",
            "a plate of food",
            "a cup",
            "a computer",
            "a phone",
            "a book",
            "a chair",
            "a bed",
            "a sign",
            "a bridge",
            "mountains",
            "the sea",
        ],
        "scene": [
            "indoors",
            "outdoors",
            "in a city street",
            "in a park",
            "on a beach",
            "in a forest",
            "in the snow",
            "in a desert",
            "at night",
            "in a kitchen",
            "in an office",
            "on a road",
        ],
        "colour": ["red", "green", "blue", "yellow", "black and white", "bright", "dark", "warm"],
    },
)


def vocabulary_phrases(vocabulary: CaptionVocabulary) -> list[str]:
    """Every slot phrase once, in slot order."""
    return list(dict.fromkeys(p for values in vocabulary.slots.values() for p in values))


def describe_vocabulary(vocabulary: CaptionVocabulary) -> str:
    """The vocabulary in a report: its template and how many phrases it has."""
    return f"'{vocabulary.template}', {len(vocabulary_phrases(vocabulary))} phrases"


def vocabulary_hypotheses(vocabulary: CaptionVocabulary) -> list[tuple[str, str]]:
    """Every slot phrase as a candidate difference in both directions: an LLM-free proposer
    that checks each concept the captioner knows (``[(phrase, "A"), (phrase, "B"), ...]``)."""
    return [(p, direction) for p in vocabulary_phrases(vocabulary) for direction in ("A", "B")]


class ClipVocabularyCaptioner:
    """Caption = the filled template CLIP scores highest for the image.

    Small vocabularies are scored exhaustively (every combination of slot phrases); larger ones
    greedily, slot by slot in template order, each choice scored in the context of the earlier
    ones (``'a photo of a dog'`` then ``'a photo of a dog in a park'``), so CLIP always sees
    phrases shaped like captions rather than lone words.
    """

    def __init__(
        self,
        encoder: ClipEncoder,
        vocabulary: CaptionVocabulary = GENERAL_VOCABULARY,
        max_combinations: int = 2000,
    ):
        self.encoder = encoder
        self.vocabulary = vocabulary.check()
        self.max_combinations = max_combinations
        self.identity = "clip-vocabulary:" + stable_hash(
            {
                "model": encoder.model_identity,
                "vocabulary": vocabulary.model_dump(),
                "max_combinations": max_combinations,
            }
        )
        self._pieces = [
            (literal, name) for literal, name, _, _ in string.Formatter().parse(vocabulary.template)
        ]

    def caption(self, paths: Sequence[Path]) -> list[str]:
        embedded = self.encoder.encode_images(paths)
        if embedded.skipped:
            raise ImageDecodeError(f"{embedded.skipped[0].path}: {embedded.skipped[0].reason}")
        return self.caption_vectors(embedded.vectors)

    def caption_vectors(self, vectors: np.ndarray) -> list[str]:
        """Captions for already-encoded images."""
        slots = self.vocabulary.slots
        if math.prod(len(p) for p in slots.values()) <= self.max_combinations:
            names = list(slots)
            fills = [dict(zip(names, combo, strict=True)) for combo in product(*slots.values())]
            return self._best(vectors, [self._render(f, None) for f in fills])
        chosen: list[dict[str, str]] = [{} for _ in range(len(vectors))]
        for _, slot in self._pieces:
            if slot is None:
                continue
            groups: dict[tuple, list[int]] = {}
            for i, fill in enumerate(chosen):
                groups.setdefault(tuple(fill.items()), []).append(i)
            for fill_items, members in groups.items():
                options = [{**dict(fill_items), slot: phrase} for phrase in slots[slot]]
                texts = [self._render(option, slot) for option in options]
                best = self._best(vectors[members], texts, return_index=True)
                for member, index in zip(members, best, strict=True):
                    chosen[member] = options[index]
        return [self._render(fill, None) for fill in chosen]

    def _render(self, fill: dict[str, str], last_slot: str | None) -> str:
        """The template filled up to and including ``last_slot`` (None: the whole template)."""
        text = ""
        for literal, name in self._pieces:
            text += literal
            if name is not None:
                text += fill[name]
                if name == last_slot:
                    break
        return text.strip(" ,")

    def _best(self, vectors: np.ndarray, texts: list[str], return_index: bool = False):
        prompts = [self.vocabulary.prompt.format(t) for t in texts]
        best = (vectors @ self.encoder.encode_texts(prompts).T).argmax(axis=1)
        return best.tolist() if return_index else [texts[i] for i in best]


class BlipCaptioner:
    """A transformers BLIP captioner, loaded from the local hub cache only."""

    def __init__(
        self, model_name: str = "Salesforce/blip-image-captioning-base", device: str = "cpu"
    ):
        try:
            from transformers import BlipForConditionalGeneration, BlipProcessor
        except ImportError:
            raise MissingWeightsError(
                "The BLIP captioner needs transformers: pip install transformers"
            ) from None
        try:
            self.processor = BlipProcessor.from_pretrained(model_name, local_files_only=True)
            self.model = BlipForConditionalGeneration.from_pretrained(
                model_name, local_files_only=True
            ).to(device)
        except OSError as error:
            raise MissingWeightsError(
                f"BLIP weights {model_name!r} are not in the hub cache ({error}). Fetch them on a "
                "connected machine and copy the cache, or use the clip-vocabulary captioner."
            ) from None
        self.device = device
        self.identity = f"blip:{model_name}"

    def caption(self, paths: Sequence[Path]) -> list[str]:
        from clipflows.components.images import decode_image

        images = [decode_image(read_bytes(p)) for p in paths]
        inputs = self.processor(images=images, return_tensors="pt").to(self.device)
        output = self.model.generate(**inputs, max_new_tokens=30)
        return [
            text.strip() for text in self.processor.batch_decode(output, skip_special_tokens=True)
        ]


def caption_images(
    captioner: Captioner, paths: Sequence[Path], cache: JsonCache | None
) -> list[str]:
    """Captions in input order, from the cache (by image bytes and captioner) where possible."""
    keys = [stable_hash([captioner.identity, sha256_bytes(read_bytes(p))]) for p in paths]
    found = {k: cache.get(k) for k in keys} if cache is not None else {}
    missing = [i for i, k in enumerate(keys) if not isinstance(found.get(k), str)]  # damaged: miss
    if missing:
        fresh = captioner.caption([paths[i] for i in missing])
        for i, text in zip(missing, fresh, strict=True):
            found[keys[i]] = text
            if cache is not None:
                cache.set(keys[i], text)
    return [found[k] for k in keys]
