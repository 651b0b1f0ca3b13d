"""World tasks for the LLM steps that no prompt was tuned on: robustness pairs and test naming."""

from __future__ import annotations

from clipflows.components.world.class_task import (
    SHAPE_NOUNS,
    WORLD_CONTEXT,
    world_class_names,
    world_class_task,
    world_differential_entries,
)
from clipflows.components.world.robust_pairs import (
    ATTRIBUTE_VALUES,
    DIFFICULTIES,
    robust_pairs,
    write_mixed_pair,
)
from clipflows.components.world.scenes import SHAPES, WorldConfig, read_dataset
from clipflows.components.world.set_pairs import WORLD_SET_PAIRS


def changed(pair) -> list[str]:
    return [a for a in ATTRIBUTE_VALUES if getattr(pair.a, a) != getattr(pair.b, a)]


def test_robust_pairs_change_two_attributes_on_their_own_seeds_every_difficulty_in_turn():
    pairs = robust_pairs(seed=0, count=6)
    assert [p.difficulty for p in pairs] == [*DIFFICULTIES, *DIFFICULTIES]
    packaged_seeds = {p.a.seed for p in WORLD_SET_PAIRS} | {p.b.seed for p in WORLD_SET_PAIRS}
    for pair in pairs:
        assert len(changed(pair)) == 2 and len(pair.values_a) == len(pair.values_b) == 2
        assert not {pair.a.seed, pair.b.seed} & packaged_seeds
    assert robust_pairs(seed=0, count=6) == pairs
    assert [p.name for p in robust_pairs(seed=1, count=6)] != [p.name for p in pairs]


def test_a_mixed_set_holds_its_share_of_the_other_sides_images(tmp_path):
    pair = robust_pairs(seed=0, count=1)[0]
    set_a, set_b = write_mixed_pair(pair, tmp_path, count=8, purity=0.75)
    assert len(set_a) == len(set_b) == 8 and not set(set_a) & set(set_b)
    attribute = sorted(changed(pair))[0]  # values_a lists the attributes by name
    for paths, own in ((set_a, pair.values_a[0]), (set_b, pair.values_b[0])):
        folders = {p.rsplit("/images/", 1)[0] for p in paths}
        truth = {}
        for folder in folders:
            for record in read_dataset(folder):
                truth[f"{folder}/{record.image}"] = record
        values = [
            getattr(truth[p].objects[0], attribute[:-1]) if attribute != "backgrounds"
            else truth[p].background
            for p in paths
        ]  # fmt: skip
        assert values.count(own) == 6


def test_the_test_naming_shares_no_shape_word_with_dev_and_the_context_names_no_shape(tmp_path):
    dev, test = set(SHAPE_NOUNS["dev"].values()), set(SHAPE_NOUNS["test"].values())
    assert not dev & test and set(SHAPE_NOUNS["test"]) == set(SHAPES)
    assert not any(shape in WORLD_CONTEXT for shape in SHAPES)
    names = world_class_names(naming="test")
    assert len(names) == 24 and not set(names) & set(world_class_names())
    (entry,) = world_differential_entries("red círculo", "red estrella")
    assert (entry.description_a, entry.description_b) == ("a red circle", "a red star")
    task = world_class_task(
        tmp_path / "t", count=12, config=WorldConfig(colours=["red"]), naming="test"
    )
    assert task.class_names == ["red círculo", "red vierkant", "red driehoek", "red estrella"]
    assert task.context == WORLD_CONTEXT
