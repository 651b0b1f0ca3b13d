"""Image-caption folders: the training data format of ``train-clip``.

A folder holds images and one captions file: ``captions.jsonl`` (objects with ``image`` and
``caption``, paths relative to the folder), or open_clip's ``captions.csv``/``captions.tsv``
(columns ``filepath`` and ``title``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import Dataset

from clipflows.components.errors import EmptyInputError
from clipflows.components.images import ImageDecodeError, decode_image, read_bytes

CAPTION_FILES = ("captions.jsonl", "captions.csv", "captions.tsv")


def read_pairs(folder: str | Path) -> list[tuple[Path, str]]:
    """(image path, caption) pairs of an image-caption folder, in file order."""
    root = Path(folder)
    for name in CAPTION_FILES:
        path = root / name
        if path.is_file():
            break
    else:
        raise FileNotFoundError(
            f"No captions file in {root}: expected one of {', '.join(CAPTION_FILES)}."
        )
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        pairs = [(root / row["image"], str(row["caption"])) for row in rows]
    else:
        delimiter = "\t" if path.suffix == ".tsv" else ","
        with path.open(newline="") as handle:
            pairs = [
                (root / r["filepath"], r["title"])
                for r in csv.DictReader(handle, delimiter=delimiter)
            ]
    if not pairs:
        raise EmptyInputError(f"{path} lists no image-caption pairs.")
    return pairs


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
