"""A 10,000-image set: listed and validated whole; encoded (on a 3,000-image slice) without
holding the decoded images; the few bad files among them are skipped with their reasons."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.settings import Settings
from clipflows.flows.set_difference import resolve_set

pytestmark = pytest.mark.slow
COUNT = 10_000
SLICE = {"part01", "part02", "part03"}  # 3,000 of the images go through the encoder
BAD = {"empty": b"", "corrupt": b"\x89PNG\r\n\x1a\n" + bytes(200), "text": b"not an image"}


def tiny_pngs(folder: Path, count: int) -> Path:
    """``count`` random 8x8 PNGs in folders of a thousand, then three bad files with image names."""
    pixels = np.random.default_rng(0).integers(0, 256, (count, 8, 8, 3), dtype=np.uint8)
    for index, image in enumerate(pixels):
        sub = folder / f"part{index // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(sub / f"{index:05d}.png")
    for name, data in BAD.items():
        (folder / f"{name}.png").write_bytes(data)
    return folder


def resident_kib() -> tuple[int, int]:
    """(current, peak) resident memory of this process, in KiB."""
    fields = {
        line.split(":")[0]: int(line.split()[1])
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith(("VmRSS", "VmHWM"))
    }
    return fields["VmRSS"], fields["VmHWM"]


def reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: the peak restarts from now
    except OSError:
        pytest.skip("needs Linux's /proc/self/clear_refs to measure peak memory")


def test_ten_thousand_images_are_listed_and_encoded_in_bounded_memory(tmp_path, world_spec):
    folder = tiny_pngs(tmp_path / "set", COUNT)
    began = time.perf_counter()
    paths = resolve_set(str(folder), "A")
    listed = time.perf_counter() - began
    assert len(paths) == COUNT + len(BAD) and paths == sorted(paths)
    assert listed < 10, listed

    # Encoding all 10,000 takes ~12 s on two idle cores but minutes on a shared machine, so the
    # encoder runs on a slice: after a warm-up (thread pool, cache database), its peak memory
    # must not grow with the number of images.
    encoder = ClipEncoder(settings=Settings(cache_dir=tmp_path / "cache", clip=world_spec))
    encoder.encode_images([p for p in paths if p.parent.name == "part00"][:256])
    chosen = [p for p in paths if p.parent.name in SLICE or p.parent == folder]
    reset_peak()
    before, _ = resident_kib()
    embedded = encoder.encode_images(chosen)
    _, peak = resident_kib()
    count = len(chosen) - len(BAD)
    one = encoder.preprocess(Image.new("RGB", (8, 8))).numel() * 4  # bytes of a decoded image
    held_all = count * one // 1024  # KiB, were every decoded image kept until the end
    assert peak - before < held_all / 4, (peak - before, held_all)
    assert embedded.encoded == len(embedded) == count
    assert embedded.vectors.shape == (count, encoder.embed_dim)
    assert np.isfinite(embedded.vectors).all()
    assert sorted(Path(s.path).name for s in embedded.skipped) == sorted(f"{n}.png" for n in BAD)
    assert encoder.encode_images(chosen).encoded == 0  # a rerun decodes nothing
    print(
        f"listed {len(paths)} in {listed:.1f} s; encoding {count} grew the peak by "
        f"{(peak - before) / 1024:.1f} MiB (all decoded: {held_all / 1024:.0f} MiB)"
    )
