"""Music descriptions by prompt analogy: tags in, a sentence a person might write out.

As in the paper, the prompt shows a few (tags -> human-written description) examples, here the
ones whose tags are most like the track's (cosine over tag vectors), then the track's own tags.
The bank of examples is data in the repository (agents/data/music_analogies.json).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import BaseModel, Field, StringConstraints, field_validator

from .llm import LLM

SYSTEM = (
    "You write one-sentence descriptions of music for people choosing a soundtrack, from the "
    "tags a music tagger gave the track (most likely first). Name the instruments and the tempo "
    "the tags give, then the mood they suggest. Follow the style of the examples. Answer in JSON."
)


class Analogy(BaseModel):
    tags: list[str]
    description: str


class MusicDescription(BaseModel):
    """The describer's schema: one bounded sentence."""

    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=10, max_length=200)
    ]


class DescriberConfig(BaseModel):
    examples: int = Field(default=3, ge=1, le=10)
    tags_shown: int = Field(default=6, ge=1, le=20)


def load_analogies() -> list[Analogy]:
    text = (Path(__file__).parent / "data" / "music_analogies.json").read_text()
    return [Analogy.model_validate(item) for item in json.loads(text)]


def closest_analogies(tags: dict[str, float], bank: Sequence[Analogy], count: int) -> list[Analogy]:
    """The ``count`` examples whose tags best match the track's tag probabilities (cosine)."""
    vocabulary = sorted({t for a in bank for t in a.tags} | set(tags))
    index = {t: i for i, t in enumerate(vocabulary)}
    track = np.zeros(len(vocabulary))
    for tag, value in tags.items():
        track[index[tag]] = value
    scores = []
    for analogy in bank:
        vector = np.zeros(len(vocabulary))
        vector[[index[t] for t in analogy.tags]] = 1.0
        scores.append(
            float(track @ vector / (np.linalg.norm(track) * np.linalg.norm(vector) + 1e-9))
        )
    order = np.argsort(scores)[::-1][:count]
    return [bank[i] for i in order]


def _normal(text: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def fresh_description_schema(shown: Sequence[Analogy]) -> type[MusicDescription]:
    """The description schema plus two checks a small model needs: the answer is not a copy of
    an example it was shown, and it is a sentence rather than JSON text. A failed check is fed
    back to the model like any validation error."""
    openings = [_normal(a.description)[:40] for a in shown]

    class MusicDescription_(MusicDescription):  # noqa: N801 - same schema, more checks
        @field_validator("description")
        @classmethod
        def not_copied(cls, value: str) -> str:
            if any(opening in _normal(value) for opening in openings):
                raise ValueError("it copies an example; describe the given tags in new words")
            if "{" in value or "}" in value or "json" in value.lower():
                raise ValueError("it contains JSON text; give only the sentence")
            return value

    return MusicDescription_


def describe_track(
    llm: LLM, tags: dict[str, float], bank: Sequence[Analogy], config: DescriberConfig
) -> str:
    """One description for a track, from its top tags and the closest examples."""
    top = [t for t, _ in sorted(tags.items(), key=lambda kv: -kv[1])[: config.tags_shown]]
    shots = closest_analogies(tags, bank, config.examples)
    examples = "\n".join(f"Tags: {', '.join(a.tags)}\nDescription: {a.description}" for a in shots)
    prompt = f"{examples}\nTags: {', '.join(top)}\nDescription (new words, not an example's):"
    schema = fresh_description_schema(shots)
    messages = [("system", SYSTEM), ("human", prompt)]
    return llm.ask_structured(messages, schema, remember_failure=True).description
