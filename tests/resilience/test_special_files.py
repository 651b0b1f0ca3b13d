"""Named pipes, devices and sockets listed as images: skipped with a reason, never opened (opening
a pipe for reading blocks until a writer comes, so a FIFO in a CSV used to hang a run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clipflows.components.cache import sha256_file
from clipflows.components.classification.datasets import load_labels_csv
from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.images import ImageDecodeError, NotRegularFileError, read_bytes
from clipflows.components.set_difference.visdiffbench import load_image_groups
from clipflows.components.world.scenes import WorldConfig, write_dataset

REASON = "not a regular file (a named pipe, device or socket)"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two real images and a named pipe with an image's name."""
    images = sorted((write_dataset(WorldConfig(seed=3), 2, tmp_path) / "images").glob("*.png"))
    for index, image in enumerate(images):
        image.rename(tmp_path / f"real{index}.png")
    os.mkfifo(tmp_path / "pipe.png")
    return tmp_path


def never_opened(fifo: Path) -> bool:
    """True when no one holds the pipe open for reading (a writer cannot open it)."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # ENXIO: no reader
        return True
    return False


@pytest.mark.timeout(30, func_only=True)  # the fixtures may train the world CLIP (cold cache)
def test_reading_or_hashing_a_named_pipe_fails_at_once(folder):
    with pytest.raises(ImageDecodeError, match="named pipe"):
        read_bytes(folder / "pipe.png")
    with pytest.raises(NotRegularFileError):
        sha256_file(folder / "pipe.png")
    assert never_opened(folder / "pipe.png")


@pytest.mark.timeout(30, func_only=True)  # the fixtures may train the world CLIP (cold cache)
def test_a_pipe_in_a_set_difference_csv_is_skipped_with_a_reason(folder, world_spec, settings):
    (folder / "sets.csv").write_text(
        "group_name,path\nA,real0.png\nA,pipe.png\nB,real1.png\n", encoding="utf-8"
    )
    groups = load_image_groups(folder / "sets.csv")
    result = ClipEncoder(world_spec, settings=settings).encode_images(groups["A"])
    assert result.paths == [str(folder / "real0.png")]
    assert [(Path(s.path).name, s.reason) for s in result.skipped] == [("pipe.png", REASON)]
    assert never_opened(folder / "pipe.png")


@pytest.mark.timeout(30, func_only=True)  # the fixtures may train the world CLIP (cold cache)
def test_a_pipe_in_a_classify_csv_is_skipped_with_a_reason(folder, world_spec, settings):
    (folder / "labels.csv").write_text("real0.png,red\npipe.png,red\nreal1.png,blue\n")
    dataset = load_labels_csv(folder / "labels.csv")
    result = ClipEncoder(world_spec, settings=settings).encode_images(dataset.paths)
    assert len(result.paths) == 2
    assert [(Path(s.path).name, s.reason) for s in result.skipped] == [("pipe.png", REASON)]
    assert never_opened(folder / "pipe.png")
