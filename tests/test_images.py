import io

import numpy as np
import pytest
from PIL import Image

from clipflows.components.images import ImageDecodeError, decode_image, list_images, read_bytes


def _encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def test_rgb_png_round_trips():
    image = Image.new("RGB", (8, 6), (200, 10, 10))
    decoded = decode_image(_encode(image, "PNG"))
    assert decoded.size == (8, 6) and decoded.getpixel((0, 0)) == (200, 10, 10)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"this is not an image", "not an image"),
        (_encode(Image.new("RGB", (64, 64), "red"), "JPEG")[:200], "corrupt or truncated"),
    ],
)
def test_bad_bytes_give_a_reason(data, reason):
    with pytest.raises(ImageDecodeError, match=reason):
        decode_image(data)


def test_images_over_the_pixel_cap_are_refused_before_decoding():
    data = _encode(Image.new("L", (400, 300)), "PNG")
    with pytest.raises(ImageDecodeError, match="over the cap"):
        decode_image(data, max_pixels=100_000)


def test_cmyk_alpha_16bit_and_animated_images_become_rgb():
    cmyk = decode_image(_encode(Image.new("CMYK", (4, 4), (0, 255, 255, 0)), "JPEG"))
    assert cmyk.mode == "RGB" and cmyk.getpixel((1, 1))[0] > 200
    transparent = decode_image(_encode(Image.new("RGBA", (4, 4), (0, 0, 0, 0)), "PNG"))
    assert transparent.getpixel((0, 0)) == (255, 255, 255)
    ramp = Image.fromarray(np.arange(16, dtype=np.uint16).reshape(4, 4) * 4000)
    deep = decode_image(_encode(ramp, "PNG"))
    assert deep.getpixel((0, 0)) == (0, 0, 0) and deep.getpixel((3, 3)) == (255, 255, 255)
    frames = [Image.new("P", (4, 4), i) for i in (1, 2)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    assert decode_image(buffer.getvalue()).mode == "RGB"


def test_read_bytes_reports_missing_files_and_folders(tmp_path):
    with pytest.raises(ImageDecodeError, match="not found"):
        read_bytes(tmp_path / "nope.png")
    with pytest.raises(ImageDecodeError, match="directory"):
        read_bytes(tmp_path)


def test_list_images_is_sorted_and_filters_by_suffix(tmp_path):
    for name in ("b.png", "a.JPG", "notes.txt", "sub/c.webp"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == ["a.JPG", "b.png", "c.webp"]
    with pytest.raises(FileNotFoundError):
        list_images(tmp_path / "missing")


def test_symlinks_leaving_the_folder_are_not_listed(tmp_path):
    outside = tmp_path / "secret.png"
    Image.new("RGB", (4, 4)).save(outside)
    folder = tmp_path / "set"
    folder.mkdir()
    Image.new("RGB", (4, 4)).save(folder / "a.png")
    (folder / "escape.png").symlink_to(outside)
    (folder / "alias.png").symlink_to(folder / "a.png")
    assert [p.name for p in list_images(folder)] == ["a.png", "alias.png"]
