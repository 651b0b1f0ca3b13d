"""Image-caption folders: the training data format of ``train-clip``.

A folder holds images and one captions file: ``captions.jsonl`` (objects with ``image`` and
``caption``, paths relative to the folder), or open_clip's ``captions.csv``/``captions.tsv``
(columns ``filepath`` and ``title``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import torch
from pydantic import BaseModel, Field, ValidationError
from torch.utils.data import Dataset

from clipflows.components.errors import EmptyInputError, InputFormatError, InputNotFoundError
from clipflows.components.images import ImageDecodeError, decode_image, read_bytes

CAPTION_FILES = ("captions.jsonl", "captions.csv", "captions.tsv")


class _CaptionLine(BaseModel):
    """One line of ``captions.jsonl`` (other keys, such as the world's attributes, are kept out)."""

    image: str = Field(min_length=1)
    caption: str


def read_pairs(folder: str | Path) -> list[tuple[Path, str]]:
    """(image path, caption) pairs of an image-caption folder, in file order; InputFormatError
    naming the file, line and value for a line that is not a pair, so nothing fails later."""
    root = Path(folder)
    for name in CAPTION_FILES:
        path = root / name
        if path.is_file():
            break
    else:
        raise InputNotFoundError(
            f"No captions file in {root}: expected one of {', '.join(CAPTION_FILES)}."
        )
    pairs = _read_jsonl(path) if path.suffix == ".jsonl" else _read_table(path)
    if not pairs:
        raise EmptyInputError(f"{path} lists no image-caption pairs.")
    return [(root / image, caption) for image, caption in pairs]


def _read_jsonl(path: Path) -> list[tuple[str, str]]:
    """(image, caption) of each non-blank line of a ``captions.jsonl``."""
    pairs = []
    for number, line in enumerate(_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = _CaptionLine.model_validate_json(line)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise InputFormatError(
                f"{path}, line {number}: {problem['msg']}{f' at {where!r}' if where else ''} "
                f'in {_shown(line)}; each line is a JSON object with "image" (a path relative '
                'to the folder) and "caption" (text).'
            ) from None
        pairs.append((row.image, row.caption))
    return pairs


def _read_table(path: Path) -> list[tuple[str, str]]:
    """(filepath, title) of each row of open_clip's ``captions.csv`` or ``captions.tsv``."""
    delimiter = "\t" if path.suffix == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(_text(path), newline=""), delimiter=delimiter)
    if not {"filepath", "title"} <= set(reader.fieldnames or []):
        raise InputFormatError(
            f"{path}, line 1: the header must name the columns filepath and title "
            f"(found {reader.fieldnames})."
        )
    pairs = []
    for row in reader:
        image, caption = row["filepath"], row["title"]
        if not image or caption is None:
            raise InputFormatError(
                f"{path}, line {reader.line_num}: a row needs a filepath and a title "
                f"(found {dict(row)})."
            )
        pairs.append((image, caption))
    return pairs


def _text(path: Path) -> str:
    """A captions file's text; InputFormatError naming the file when it is not UTF-8."""
    try:
        return path.read_text(encoding="utf-8-sig")  # a BOM (Excel) is not text
    except UnicodeDecodeError as error:
        raise InputFormatError(
            f"{path}: not UTF-8 text (byte {error.start}); save it as UTF-8."
        ) from None


def _shown(line: str, limit: int = 80) -> str:
    """A line as quoted in an error, cut to ``limit`` characters."""
    return repr(line if len(line) <= limit else line[:limit] + "...")


class ImageCaptionDataset(Dataset):
    """Decoded, preprocessed images with tokenized captions; unreadable images are skipped."""

    def __init__(
        self,
        pairs: list[tuple[Path, str]],
        preprocess: Callable,
        tokenizer: Callable,
    ):
        self.pairs = pairs
        self.preprocess = preprocess
        self.tokenizer = tokenizer

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int] | None:
        """(image, caption tokens, index), or None when the image cannot be decoded."""
        path, caption = self.pairs[index]
        try:
            image = decode_image(read_bytes(path))
        except ImageDecodeError:
            return None
        return self.preprocess(image), self.tokenizer([caption])[0], index


def collate_skipping_none(batch: list) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stack a batch (images, tokens, indices), leaving out items that failed to decode."""
    kept = [item for item in batch if item is not None]
    if not kept:
        raise EmptyInputError("A whole training batch failed to decode; check the image folder.")
    images, texts, indices = zip(*kept, strict=True)
    return torch.stack(images), torch.stack(texts), torch.tensor(indices)
