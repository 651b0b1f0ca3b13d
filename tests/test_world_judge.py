"""The strict keyword judge: a copied caption is not the answer, the attribute alone is."""

import pytest

from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, world_judge

PAIRS = {pair.name: pair for pair in WORLD_SET_PAIRS}


@pytest.mark.parametrize(
    ("pair", "text", "direction", "score"),
    [
        ("red-vs-blue", "red shapes", "A", 1.0),
        ("red-vs-blue", "crimson objects", "A", 1.0),  # a lexicon word for red
        ("red-vs-blue", "large red triangle on a white background", "A", 0.5),  # a copied caption
        ("red-vs-blue", "red shapes", "B", 0.0),  # true of the other set
        ("red-vs-blue", "dogs playing in snow", "A", 0.0),  # the proposer prompt's own example
        ("two-vs-one", "pairs of objects", "A", 1.0),
        ("two-vs-one", "two red circles", "A", 0.5),
        ("two-vs-one", "a single shape", "B", 1.0),
        ("warm-vs-cool", "warm colours", "A", 1.0),
        ("warm-vs-cool", "orange and red shapes", "A", 1.0),
        ("warm-vs-cool", "blue shapes", "A", 0.0),
        ("circles-vs-squares", "round shapes", "A", 1.0),
        ("circles-vs-squares", "circles on a gray background", "A", 0.5),
        ("large-vs-small", "big shapes", "A", 1.0),
        ("gray-vs-white-background", "a grey backdrop", "A", 1.0),
    ],
)
def test_full_credit_only_for_the_attribute_alone(pair, text, direction, score):
    assert world_judge(PAIRS[pair])(text, direction)[0] == score
