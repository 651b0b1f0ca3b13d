import pytest

from clipflows.components.world.scenes import (
    COLOURS,
    WorldConfig,
    generate,
    read_dataset,
    write_dataset,
)


def test_same_config_gives_the_same_images_and_captions():
    first = [(img.tobytes(), rec.caption) for img, rec in generate(WorldConfig(seed=3), 5)]
    again = [(img.tobytes(), rec.caption) for img, rec in generate(WorldConfig(seed=3), 5)]
    other = [(img.tobytes(), rec.caption) for img, rec in generate(WorldConfig(seed=4), 5)]
    assert first == again and first != other


def test_ground_truth_matches_the_pixels_and_the_caption():
    config = WorldConfig(min_objects=1, max_objects=3, seed=1)
    for image, record in generate(config, 30):
        assert config.min_objects <= record.count <= config.max_objects
        for obj in record.objects:
            centre = (int(obj.x * config.image_size), int(obj.y * config.image_size))
            pixel = image.getpixel(centre)
            assert max(abs(a - b) for a, b in zip(pixel, COLOURS[obj.colour], strict=True)) < 40
            assert obj.colour in record.caption and obj.shape in record.caption


def test_restricted_lists_bound_what_appears():
    config = WorldConfig(colours=["red"], shapes=["star"], backgrounds=["black"], seed=2)
    records = [rec for _, rec in generate(config, 20)]
    assert {o.colour for r in records for o in r.objects} == {"red"}
    assert {r.background for r in records} == {"black"}


def test_unknown_attribute_values_are_rejected_by_name():
    with pytest.raises(ValueError, match="magenta"):
        WorldConfig(colours=["red", "magenta"]).check()
    with pytest.raises(ValueError, match="min_objects"):
        WorldConfig(min_objects=3, max_objects=2).check()


def test_dataset_folder_round_trips(tmp_path):
    write_dataset(WorldConfig(seed=5), 12, tmp_path)
    records = read_dataset(tmp_path)
    assert len(records) == 12 and all((tmp_path / r.image).is_file() for r in records)
    assert not list(tmp_path.glob("*.partial*"))


def test_the_world_vocabulary_is_the_world_s_own_constants():
    from clipflows.components.world.scenes import BACKGROUNDS, COLOURS, SHAPES, SIZES
    from clipflows.components.world.vocabulary import WORLD_VOCABULARY

    slots = WORLD_VOCABULARY.check().slots
    assert (slots["colour"], slots["shape"]) == (list(COLOURS), list(SHAPES))
    assert (slots["size"], slots["background"]) == (list(SIZES), list(BACKGROUNDS))
    assert slots["count"][:2] == ["one shape", "two shapes"]


def test_the_paraphrased_vocabulary_says_each_value_in_its_training_words_too():
    from clipflows.components.world.lexicon import HELD_OUT_WORDS, TRAINING_WORDS
    from clipflows.components.world.vocabulary import WORLD_VOCABULARY, paraphrased_vocabulary

    vocabulary = paraphrased_vocabulary().check()
    assert vocabulary.template == WORLD_VOCABULARY.template
    for slot, values in WORLD_VOCABULARY.slots.items():
        words = vocabulary.slots[slot]
        assert len(words) == len(set(words))
        for value in values:
            assert {value, *TRAINING_WORDS.get(value, ())} <= set(words)
            assert not set(HELD_OUT_WORDS.get(value, ())) & set(words)  # kept back, as ever
    assert "crimson" not in WORLD_VOCABULARY.slots["colour"]  # the world's own is left as it was
