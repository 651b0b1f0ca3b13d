"""The second pass and the fusion rule on vectors whose answers are known; FuDD's released
description files land each description on the class it was written for."""

import json

import numpy as np
import pytest

from clipflows.components.classification.datasets import load_image_folder
from clipflows.components.classification.descriptions import (
    DescriptionBook,
    DescriptionFileError,
    DifferentialEntry,
    read_fudd_file,
)
from clipflows.components.classification.second_pass import (
    FusionRule,
    choose_fusion,
    fit_temperature,
    positions_in_sets,
    second_pass_scores,
)

NAMES = ["a", "b", "c"]
BASIS = {f"about {n}": np.eye(3, dtype=np.float32)[i] for i, n in enumerate(NAMES)}


def encode(texts):
    return np.stack([BASIS[t] for t in texts])


def test_each_class_is_the_mean_of_its_descriptions_within_the_set():
    book = DescriptionBook(class_names=NAMES)
    book.add(
        "a",
        "b",
        [DifferentialEntry(attr_type="x", description_a="about a", description_b="about b")],
    )
    fallback = np.full((3, 3), 1 / np.sqrt(3), np.float32)
    images = np.eye(3, dtype=np.float32)
    sets = np.array([[0, 1], [1, 0], [2, 0]])
    scores = second_pass_scores(images, sets, book, encode, fallback)
    assert np.allclose(scores[0], [1, 0]) and np.allclose(scores[1], [1, 0])
    # Pair (c, a) has no descriptions: both classes fall back to the template embedding.
    assert np.allclose(scores[2], [fallback[2] @ images[2], fallback[0] @ images[2]])


def test_positions_mark_labels_outside_the_set():
    sets = np.array([[2, 0], [1, 2]])
    assert positions_in_sets(sets, np.array([0, 0])).tolist() == [1, -1]


def test_temperature_fits_sharper_for_more_separable_scores():
    rng = np.random.default_rng(0)
    positions = rng.integers(0, 4, 400)
    noisy = rng.normal(0, 0.05, (400, 4))
    clean = noisy.copy()
    clean[np.arange(400), positions] += 0.05
    noisy[np.arange(400), positions] += 0.01
    assert fit_temperature(clean, positions) > fit_temperature(noisy, positions)


def test_fusion_finds_the_weight_that_combines_complementary_passes():
    """Each pass is right on a different half; fusing lets the confident one win."""
    rng = np.random.default_rng(1)
    n, k = 400, 3
    positions = rng.integers(0, k, n)
    first = rng.normal(0, 0.01, (n, k))
    second = rng.normal(0, 0.01, (n, k))
    half = np.arange(n) < n // 2
    first[np.arange(n)[half], positions[half]] += 0.1  # confident and right on the first half
    second[np.arange(n)[~half], positions[~half]] += 0.1
    rule = choose_fusion(first, second, positions)
    accuracy = lambda scores: (scores.argmax(1) == positions).mean()  # noqa: E731
    assert 0 < rule.weight < 1
    assert accuracy(rule.fuse(first, second)) > 0.95
    assert accuracy(FusionRule(weight=1.0).fuse(first, second)) < 0.75  # the paper's rule
    assert accuracy(FusionRule(weight=0.0).fuse(first, second)) < 0.75


# FuDD's released files: pairs keyed by index into the class order of the dataset they were made
# for, with that order shipped beside them as <dataset>_class_names.json.
FUDD_ORDER = ["Siamese", "beagle", "Abyssinian", "pug"]  # not sorted, and spelled otherwise
FUDD_PAIRS = {
    "0_1": ("about Siamese vs beagle", "about beagle vs Siamese"),
    "1_2": ("about beagle vs Abyssinian", "about Abyssinian vs beagle"),
    "0_3": ("about Siamese vs pug", "about pug vs Siamese"),
}


def released_file(folder, names=FUDD_ORDER, class_list=True, classes_as_names=False):
    """A description file in FuDD's released layout, its class list beside it."""
    data = {}
    for key, (first, second) in FUDD_PAIRS.items():
        i, j = (int(part) for part in key.split("_"))
        data[key] = {
            "classes": [names[i], names[j]] if classes_as_names else [i, j],
            "prompt_pairs": [{"attr_type": "look", "prompt_pair": [first, second]}],
        }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pets_prompt_pairs.json"
    path.write_text(json.dumps(data))
    if class_list:
        (folder / "pets_class_names.json").write_text(json.dumps(names))
    return path


def pet_folders(root, folders=("Abyssinian", "Siamese", "beagle", "pug")):
    """A folder per class; clipflows numbers the classes by sorted folder name."""
    for name in folders:
        (root / name).mkdir(parents=True)
        (root / name / "1.png").write_bytes(b"")
    return load_image_folder(root)


def descriptions_by_class(book, a, b):
    """{class name: its descriptions} for the pair (a, b) of the book."""
    first, second = book.descriptions_of(book.index(a), book.index(b))
    return {a: first, b: second}


def test_released_indices_are_mapped_through_the_class_list_beside_the_file(tmp_path):
    data = pet_folders(tmp_path / "pets")
    assert data.class_names == ["Abyssinian", "Siamese", "beagle", "pug"]  # not FuDD's order
    book = read_fudd_file(released_file(tmp_path / "fudd"), data.class_names)
    assert descriptions_by_class(book, "Siamese", "beagle") == {
        "Siamese": ["about Siamese vs beagle"],
        "beagle": ["about beagle vs Siamese"],
    }
    assert descriptions_by_class(book, "Abyssinian", "beagle") == {
        "Abyssinian": ["about Abyssinian vs beagle"],
        "beagle": ["about beagle vs Abyssinian"],
    }
    assert descriptions_by_class(book, "pug", "Siamese") == {
        "pug": ["about pug vs Siamese"],
        "Siamese": ["about Siamese vs pug"],
    }
    assert len(book.pairs) == 3


def test_names_match_across_case_underscores_and_spaces(tmp_path):
    data = pet_folders(tmp_path / "pets", ("abyssinian", "siamese_cat", "beagle", "pug"))
    names = ["Siamese cat", "beagle", "Abyssinian", "pug"]
    book = read_fudd_file(released_file(tmp_path / "fudd", names), data.class_names)
    assert descriptions_by_class(book, "siamese cat", "beagle") == {
        "siamese cat": ["about Siamese vs beagle"],
        "beagle": ["about beagle vs Siamese"],
    }
    assert descriptions_by_class(book, "abyssinian", "beagle")["abyssinian"] == [
        "about Abyssinian vs beagle"
    ]


def test_an_explicit_class_list_maps_a_file_with_none_beside_it(tmp_path):
    path = released_file(tmp_path / "fudd", class_list=False)
    book = read_fudd_file(path, sorted(FUDD_ORDER), FUDD_ORDER)
    assert descriptions_by_class(book, "Siamese", "pug")["pug"] == ["about pug vs Siamese"]


def test_names_in_the_entries_are_mapped_by_name_whatever_the_keys_say(tmp_path):
    path = released_file(tmp_path / "fudd", class_list=False, classes_as_names=True)
    book = read_fudd_file(path, sorted(FUDD_ORDER))
    assert descriptions_by_class(book, "beagle", "Abyssinian") == {
        "beagle": ["about beagle vs Abyssinian"],
        "Abyssinian": ["about Abyssinian vs beagle"],
    }


@pytest.mark.parametrize(
    "make, message",
    [
        # Indices alone cannot say which classes they mean in this dataset.
        (lambda d: released_file(d, class_list=False), "pets_class_names.json"),
        # A file (and its list) for other classes.
        (lambda d: released_file(d, ["tabby", "collie", "sphynx", "boxer"]), "tabby"),
        (
            lambda d: released_file(
                d, ["tabby", "collie", "sphynx", "boxer"], class_list=False, classes_as_names=True
            ),
            "tabby",
        ),
    ],
)
def test_a_file_for_other_classes_is_refused(tmp_path, make, message):
    path = make(tmp_path / "fudd")
    with pytest.raises(DescriptionFileError, match=message) as error:
        read_fudd_file(path, sorted(FUDD_ORDER))
    assert str(path) in str(error.value)


def test_a_class_list_that_disagrees_with_the_entries_is_refused(tmp_path):
    path = released_file(tmp_path / "fudd", classes_as_names=True)
    (tmp_path / "fudd" / "pets_class_names.json").write_text(json.dumps(sorted(FUDD_ORDER)))
    with pytest.raises(DescriptionFileError, match="not the one"):
        read_fudd_file(path, sorted(FUDD_ORDER))
