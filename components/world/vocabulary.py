"""The world in words: the captioning vocabulary, derived from the scene constants (a new colour
or shape in the world is a new phrase here, with nothing retyped)."""

from __future__ import annotations

from clipflows.components.set_difference.captioning import CaptionVocabulary
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
