"""Image-caption folders (train-clip's data): a bad line is one error naming file, line, value."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipflows.components.clip.data import read_pairs
from clipflows.components.errors import EmptyInputError, InputFormatError, InputNotFoundError

GOOD = '{"image": "a.png", "caption": "a cat", "colour": "red"}'


@pytest.mark.parametrize(
    "bad, says",
    [
        ('["a.png", "a cat"]', "object"),
        ('"a.png"', "object"),
        ("42", "object"),
        ('{"image": "a.png"}', "'caption'"),
        ('{"image": null, "caption": "x"}', "'image'"),
        ('{"image": "", "caption": "x"}', "'image'"),
        ('{"image": "a.png", "caption": ["x"]}', "'caption'"),
        ('{"image": "a.png", "caption": "x"', "Invalid JSON"),
    ],
)
def test_a_malformed_captions_jsonl_line_names_the_file_the_line_and_the_value(
    tmp_path: Path, bad: str, says: str
) -> None:
    (tmp_path / "captions.jsonl").write_text(f"{GOOD}\n\n{bad}\n{GOOD}\n")
    with pytest.raises(InputFormatError) as caught:
        read_pairs(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'captions.jsonl'}, line 3: "), message
    assert says in message and repr(bad) in message, message


def test_good_captions_files_read_in_order(tmp_path: Path) -> None:
    (tmp_path / "captions.jsonl").write_text(f"{GOOD}\n" + GOOD.replace("a.png", "b.png"))
    assert read_pairs(tmp_path) == [(tmp_path / "a.png", "a cat"), (tmp_path / "b.png", "a cat")]
    (tmp_path / "captions.jsonl").unlink()
    (tmp_path / "captions.csv").write_text("\ufefffilepath,title\na.png,a cat\n", "utf-8")
    assert read_pairs(tmp_path) == [(tmp_path / "a.png", "a cat")]


def test_a_short_csv_row_or_a_missing_column_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "captions.tsv"
    path.write_text("filepath\ttitle\na.png\ta cat\nb.png\n")
    with pytest.raises(InputFormatError, match=rf"{path}, line 3: .*'b.png'"):
        read_pairs(tmp_path)
    path.write_text("path\ttext\na.png\ta cat\n")
    with pytest.raises(InputFormatError, match=rf"{path}, line 1: .*filepath and title"):
        read_pairs(tmp_path)


def test_a_captions_file_that_is_not_utf8_or_lists_nothing_or_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "captions.jsonl"
    path.write_bytes(b'{"image": "a.png", "caption": "caf\xe9"}\n')
    with pytest.raises(InputFormatError, match=rf"{path}: not UTF-8"):
        read_pairs(tmp_path)
    path.write_text("\n\n")
    with pytest.raises(EmptyInputError, match="lists no image-caption pairs"):
        read_pairs(tmp_path)
    path.unlink()
    with pytest.raises(InputNotFoundError, match="No captions file"):
        read_pairs(tmp_path)
