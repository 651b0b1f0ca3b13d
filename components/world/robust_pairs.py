"""World set pairs nobody tuned on: two attributes change at once and each set is only partly
pure, as in VisDiff's robustness study.

The packaged pairs (set_pairs.py) change one attribute, with pure sets and world seeds 101 and
202, and the proposer's prompt was shaped on them. These are drawn from a seed, change two
attributes at once, render from other world seeds, and mix a share of the other side's images
into each set, so the truth holds of most of a set, not all of it.
"""

from __future__ import annotations

import random
from pathlib import Path

from clipflows.components.world.scenes import BACKGROUNDS, COLOURS, SHAPES, SIZES, WorldConfig
from clipflows.components.world.set_pairs import WorldSetPair, write_pair

# Attribute -> its values, and how hard a change of it is for the world CLIP (as in the packaged
# pairs: colours and backgrounds easy, shapes medium, sizes hard); a pair takes its harder one.
ATTRIBUTE_VALUES: dict[str, tuple[str, ...]] = {
    "colours": tuple(COLOURS),
    "shapes": SHAPES,
    "sizes": tuple(SIZES),
    "backgrounds": tuple(BACKGROUNDS),
}
HARDNESS = {"colours": 0, "backgrounds": 0, "shapes": 1, "sizes": 2}
DIFFICULTIES = ("easy", "medium", "hard")
PHRASE = {
    "colours": "{} shapes",
    "shapes": "{}s",
    "sizes": "{} shapes",
    "backgrounds": "a {} background",
}


def robust_pairs(seed: int, count: int = 6) -> list[WorldSetPair]:
    """``count`` pairs from ``seed``, each changing two attributes, the difficulties in turn
    (easy, medium, hard, ...); world seeds come from ``seed``, apart from the packaged pairs'."""
    rng = random.Random(f"robust-pairs:{seed}")
    pairs: list[WorldSetPair] = []
    while len(pairs) < count:
        first, second = sorted(rng.sample(sorted(ATTRIBUTE_VALUES), 2))
        wanted = DIFFICULTIES[len(pairs) % len(DIFFICULTIES)]
        if DIFFICULTIES[max(HARDNESS[first], HARDNESS[second])] != wanted:
            continue
        values = {a: rng.sample(ATTRIBUTE_VALUES[a], 2) for a in (first, second)}
        name = "+".join(f"{v[0]}-vs-{v[1]}" for v in values.values())
        if any(p.name == name for p in pairs):
            continue
        side_a = {a: [v[0]] for a, v in values.items()}
        side_b = {a: [v[1]] for a, v in values.items()}
        world_seed = 1_000 + 10 * seed + len(pairs)
        pairs.append(
            WorldSetPair(
                name=name,
                difficulty=DIFFICULTIES[max(HARDNESS[first], HARDNESS[second])],
                truth=" and ".join(PHRASE[a].format(v[0]) for a, v in values.items())
                + " vs "
                + " and ".join(PHRASE[a].format(v[1]) for a, v in values.items()),
                a=WorldConfig(**side_a, seed=world_seed),
                b=WorldConfig(**side_b, seed=world_seed + 500),
                values_a=[v[0] for v in values.values()],
                values_b=[v[1] for v in values.values()],
                phrase_a=PHRASE[first].format(values[first][0]),
                phrase_b=PHRASE[first].format(values[first][1]),
            )
        )
    return pairs


def write_mixed_pair(
    pair: WorldSetPair, folder: Path, count: int, purity: float
) -> tuple[list[str], list[str]]:
    """Image paths of both sets, each ``purity`` its own side and the rest the other side's
    (different renders: the mixed-in images come from a second world seed)."""
    own_a, own_b = write_pair(pair, folder, count=count)
    swapped = pair.model_copy(
        update={
            "name": f"{pair.name}-mixed",
            "a": pair.b.model_copy(update={"seed": pair.b.seed + 1}),
            "b": pair.a.model_copy(update={"seed": pair.a.seed + 1}),
        }
    )
    other_a, other_b = write_pair(swapped, folder, count=count)  # B-like images, A-like images
    pure = round(count * purity)

    def images(folder: Path) -> list[str]:
        return sorted(str(p) for p in folder.glob("*.png"))

    set_a = images(own_a)[:pure] + images(other_a)[: count - pure]
    set_b = images(own_b)[:pure] + images(other_b)[: count - pure]
    return set_a, set_b
