"""Files written whole: under a temporary name beside the target, then renamed onto it, so a
killed or failing run leaves the old file or none, never half of one.

Every temporary name is unique (process and random token) and keeps the target's suffix, which
picks the format for numpy, soundfile, matplotlib and PyAV; two writers of one path never share
a temporary file, and a failed write removes its own.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_name(path: Path) -> Path:
    """A hidden, unique name in ``path``'s folder with the same suffix."""
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    return path.with_name(f".{path.stem}.{token}.partial{path.suffix}")


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (``os.umask`` can
    only be read by setting it, briefly, for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def final_mode(path: Path) -> int:
    """The permissions a finished file gets: the old file's when it is replaced, otherwise
    what a plain ``open`` would give (0o666 less the umask). Writers of the temporary file
    (safetensors, mkstemp) may create it 0600, which would make outputs private by accident."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


@contextmanager
def written_whole(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; when the block ends without an error it replaces
    ``path`` (with the permissions of :func:`final_mode`), otherwise it is removed and ``path``
    is left as it was."""
    path = Path(path)
    partial = temporary_name(path)
    try:
        yield partial
        os.chmod(partial, final_mode(path))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_text_whole(text: str, path: str | Path) -> Path:
    """UTF-8 text to ``path``, whole."""
    with written_whole(path) as partial:
        partial.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes_whole(data: bytes, path: str | Path) -> Path:
    """Bytes to ``path``, whole."""
    with written_whole(path) as partial:
        partial.write_bytes(data)
    return Path(path)


def torch_save_whole(value: object, path: str | Path) -> Path:
    """``torch.save`` to ``path``, whole."""
    import torch

    with written_whole(path) as partial:
        torch.save(value, partial)
    return Path(path)


def save_figure_whole(figure: object, path: str | Path, dpi: int = 100) -> Path:
    """A matplotlib figure saved whole (the suffix picks the image format)."""
    with written_whole(path) as partial:
        figure.savefig(partial, dpi=dpi)  # type: ignore[attr-defined]
    return Path(path)
