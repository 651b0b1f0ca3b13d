"""The world in words: the captioning vocabulary, derived from the scene constants (a new colour
or shape in the world is a new phrase here, with nothing retyped)."""

from __future__ import annotations

from clipflows.components.set_difference.captioning import CaptionVocabulary
from clipflows.components.world.lexicon import TRAINING_WORDS
from clipflows.components.world.scenes import (
    BACKGROUNDS,
    COLOURS,
    COUNT_WORDS,
    SHAPES,
    SIZES,
    count_phrase,
)

WORLD_VOCABULARY = CaptionVocabulary(
    template="{count}: a {size} {colour} {shape} on a {background} background",
    prompt="{}",
    slots={
        "count": [count_phrase(count) for count in COUNT_WORDS],
        "size": list(SIZES),
        "colour": list(COLOURS),
        "shape": list(SHAPES),
        "background": list(BACKGROUNDS),
    },
)


def paraphrased_vocabulary() -> CaptionVocabulary:
    """The world vocabulary with each attribute value's training words beside it ("crimson",
    "scarlet" with "red"), so a CLIP captioner says one value in several words, as a real
    captioner does: the same difference is then spread over words that no single count shows."""
    slots = {
        slot: list(
            dict.fromkeys(w for value in values for w in (value, *TRAINING_WORDS.get(value, ())))
        )
        for slot, values in WORLD_VOCABULARY.slots.items()
    }
    return WORLD_VOCABULARY.model_copy(update={"slots": slots})
