"""Other words for the world's attribute values: some that training captions may use, and some
that no caption ever uses, kept back to measure whether a CLIP reads words it was not taught.

An LLM rarely says "a red circle"; it says "crimson", "round", "a pale backdrop". The world CLIP
can learn the first list from captions (``WorldConfig.paraphrase``); the held-out list never
reaches training, so zero-shot accuracy with it measures generalisation, not memory.
"""

from __future__ import annotations

TRAINING_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("crimson", "scarlet"),
    "green": ("emerald", "leafy green"),
    "blue": ("navy", "azure"),
    "yellow": ("golden", "sunny yellow"),
    "purple": ("violet", "plum"),
    "orange": ("tangerine", "pumpkin orange"),
    "circle": ("disc", "round shape", "dot"),
    "square": ("box", "four-sided shape", "block"),
    "triangle": ("three-sided shape", "wedge"),
    "star": ("five-pointed star", "starburst"),
    "white": ("pale", "snowy"),
    "gray": ("grey", "silvery"),
    "black": ("dark", "jet-black"),
    "small": ("tiny", "little"),
    "large": ("big", "huge"),
}

HELD_OUT_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("cherry-red", "ruby"),
    "green": ("lime", "jade"),
    "blue": ("cobalt", "sky-blue"),
    "yellow": ("lemon", "mustard"),
    "purple": ("lilac", "lavender"),
    "orange": ("amber", "apricot"),
    "circle": ("round thing", "circular shape"),
    "square": ("square-shaped thing", "four-cornered shape"),
    "triangle": ("triangular shape", "three-cornered thing"),
    "star": ("star-shaped thing", "pointy star"),
    "white": ("light", "ivory"),
    "gray": ("ash-grey", "slate"),
    "black": ("pitch-black", "ebony"),
    "small": ("miniature", "petite"),
    "large": ("giant", "oversized"),
}


def words_for(value: str) -> tuple[str, ...]:
    """Every word that names ``value``: the value itself, then the training and held-out words."""
    return (value, *TRAINING_WORDS.get(value, ()), *HELD_OUT_WORDS.get(value, ()))


def plural(phrase: str) -> str:
    """'disc' -> 'discs', 'box' -> 'boxes', 'round shape' -> 'round shapes'."""
    head, _, last = phrase.rpartition(" ")
    ending = "es" if last.endswith(("s", "x", "sh", "ch")) else "s"
    return f"{head} {last}{ending}".strip()
