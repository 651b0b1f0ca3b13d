"""FuDD's description files: read and written unchanged; descriptions fitted to the context."""

import json

import pytest

from clipflows.components.classification.descriptions import (
    DescriptionBook,
    DescriptionFileError,
    DifferentialEntry,
    read_fudd_file,
    to_fudd_json,
    write_fudd_file,
)
from clipflows.components.clip.text import fit_to_context, token_count

CLASSES = ["cat", "dog", "fox"]


def entry(a: str, b: str, attr: str = "ears") -> DifferentialEntry:
    return DifferentialEntry(attr_type=attr, description_a=a, description_b=b)


def test_pairs_are_stored_min_max_whatever_order_they_were_written_in():
    book = DescriptionBook(class_names=CLASSES)
    book.add("fox", "cat", [entry("a fox with pointed ears", "a cat with small ears")])
    assert list(book.pairs) == [(0, 2)]
    assert book.pairs[(0, 2)][0].description_a == "a cat with small ears"
    assert book.descriptions_of(2, 0) == (["a fox with pointed ears"], ["a cat with small ears"])
    assert book.missing([(2, 0), (1, 0)]) == [(0, 1)]


def test_the_fudd_format_round_trips(tmp_path):
    book = DescriptionBook(class_names=CLASSES)
    book.add("cat", "dog", [entry("a cat", "a dog"), entry("a small cat", "a big dog", "size")])
    book.add("fox", "dog", [entry("a red fox", "a brown dog", "coat")])
    data = to_fudd_json(book)
    assert set(data) == {"0_1", "1_2"}
    assert data["1_2"] == {
        "classes": ["dog", "fox"],
        "prompt_pairs": [{"attr_type": "coat", "prompt_pair": ["a brown dog", "a red fox"]}],
    }
    path = write_fudd_file(book, tmp_path / "d.json")
    assert read_fudd_file(path, CLASSES) == book
    assert not list(tmp_path.glob("*.partial*"))


def test_released_files_with_index_classes_are_read_through_their_class_list(tmp_path):
    path = tmp_path / "released.json"
    (tmp_path / "released_class_names.json").write_text(json.dumps(CLASSES))
    path.write_text(
        json.dumps(
            {
                "0_2": {
                    "classes": [0, 2],
                    "prompt_pairs": [{"attr_type": "tail", "prompt_pair": ["x", "y"]}],
                }
            }
        )
    )
    book = read_fudd_file(path, CLASSES)
    assert book.descriptions_of(0, 2) == (["x"], ["y"])


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "not a JSON"),
        ("[1, 2]", "expected an object"),
        ('{"0_2": {"classes": [0, 2], "prompt_pairs": []}}', "by index only"),
        ('{"0_1": {"classes": ["cat", "wolf"], "prompt_pairs": []}}', "wolf"),
        ('{"0_1": {"prompt_pairs": [{"prompt_pair": ["only one"]}]}}', "malformed"),
        ('{"zero_one": {"prompt_pairs": []}}', "malformed"),
    ],
)
def test_bad_files_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DescriptionFileError, match=message):
        read_fudd_file(path, CLASSES)


def test_indices_outside_the_class_list_are_refused(tmp_path):
    path = tmp_path / "released.json"
    path.write_text('{"0_9": {"classes": [0, 9], "prompt_pairs": []}}')
    with pytest.raises(DescriptionFileError, match="outside the 3 classes"):
        read_fudd_file(path, CLASSES, CLASSES)


def test_long_descriptions_are_cut_at_words_to_fit_the_context():
    import open_clip

    tokenizer = open_clip.get_tokenizer("RN50")  # context 77
    short = "a photo of a cat with pointed ears"
    assert fit_to_context(short, tokenizer) == (short, False)
    long = " ".join(["a very long description of a fluffy striped cat"] * 30)
    fitted, cut = fit_to_context(long, tokenizer)
    assert cut and long.startswith(fitted)
    assert token_count(fitted, tokenizer) <= 77 < token_count(fitted + " cat cat", tokenizer)
    tokens = tokenizer([fitted])
    assert tokens.shape == (1, 77) and int(tokens[0, -1]) in (0, tokenizer.eot_token_id)
