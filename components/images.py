"""Safe image decoding: every failure becomes a recorded reason, never a crash of the batch."""

from __future__ import annotations

import errno
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from pydantic import PlainSerializer

from clipflows.components.errors import InputNotFoundError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
DEFAULT_MAX_PIXELS = 50_000_000


def path_text(path: str) -> str:
    """A path for JSON and reports: a file name that is not valid UTF-8 (kept by Python as
    surrogate escapes) is written with backslash escapes instead of failing the whole result."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# A path that stays usable in memory and always serialises (``path_text``).
PathText = Annotated[str, PlainSerializer(path_text, when_used="json")]


class ImageDecodeError(ValueError):
    """An image could not be decoded; the message is the reason recorded for the skip."""


@dataclass(frozen=True)
class Skipped:
    """An input left out of a result, and why."""

    path: PathText
    reason: str


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode bytes into an RGB image: first frame, EXIF orientation applied, alpha on white.

    Raises ImageDecodeError for empty, corrupt, unsupported or oversized images.
    """
    if not data:
        raise ImageDecodeError("empty file")
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > max_pixels:
            raise ImageDecodeError(
                f"{width}x{height} pixels is over the cap of {max_pixels:,} pixels"
            )
        image.seek(0)
        image.load()
        image = ImageOps.exif_transpose(image)
        return _to_rgb(image)
    except ImageDecodeError:
        raise
    except Image.DecompressionBombError as error:
        raise ImageDecodeError(f"decompression bomb: {error}") from None
    except UnidentifiedImageError:
        raise ImageDecodeError("not an image in a supported format") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageDecodeError(f"corrupt or truncated image: {error}") from None


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in {"I;16", "I;16B", "I;16L", "I", "F"}:
        # High bit depth: rescale to 8 bits instead of letting PIL clip everything to white.
        values = np.asarray(image, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)
        image = Image.fromarray(scaled.astype(np.uint8), mode="L")
    if image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


class NotRegularFileError(OSError):
    """A path that is a named pipe, device or socket, which reading could block on forever."""


def require_regular_file(path: str | Path) -> None:
    """Raise OSError unless ``path`` (links followed) is a regular file, without opening it:
    FileNotFoundError, IsADirectoryError, or NotRegularFileError for a pipe, device or socket."""
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not stat.S_ISREG(mode):
        raise NotRegularFileError(
            errno.EINVAL, "not a regular file (a named pipe, device or socket)", str(path)
        )


def read_error_reason(error: OSError) -> str:
    """The recorded reason for a file that could not be read."""
    if isinstance(error, IsADirectoryError):
        return "is a directory"
    if isinstance(error, FileNotFoundError):
        return "file not found"
    if isinstance(error, NotRegularFileError):
        return error.strerror
    return f"unreadable: {error.strerror or error}"


def read_bytes(path: str | Path) -> bytes:
    """Read a regular file (never a pipe or device, which could block forever), turning OS
    errors into ImageDecodeError with a readable reason."""
    try:
        require_regular_file(path)
        return Path(path).read_bytes()
    except OSError as error:
        raise ImageDecodeError(read_error_reason(error)) from None


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly or recursively inside a folder, sorted for reproducibility.

    Symbolic links that lead outside the folder are left out: a folder given to a workflow (or
    uploaded to the app) must not become a way to read files elsewhere.
    """
    root = Path(folder)
    if not root.is_dir():
        problem = "is a file, not a folder" if root.is_file() else "does not exist"
        raise InputNotFoundError(
            f"Image folder {root} {problem}; give a folder of images (.jpg, .png or similar)."
        )
    inside = root.resolve()
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and p.resolve().is_relative_to(inside)
    )
