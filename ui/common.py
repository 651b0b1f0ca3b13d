"""What every page shares: settings, a per-session upload folder, safe uploads, error display."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from clipflows.components.errors import ClipflowsError
from clipflows.components.settings import Settings, load_settings

MAX_UPLOAD_MB = (
    200  # also the server's limit (see .streamlit/config.toml written by `clipflows ui`)
)
IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@st.cache_resource
def settings() -> Settings:
    """Settings read once per server process (file and environment, as for the CLI)."""
    return load_settings()


def session_dir() -> Path:
    """A temporary folder for this browser session's uploads; removed when the session ends."""
    if "upload_dir" not in st.session_state:
        holder = tempfile.TemporaryDirectory(prefix="clipflows-ui-")
        st.session_state["upload_holder"] = (
            holder  # deleted (and the folder with it) with the session
        )
        st.session_state["upload_dir"] = Path(holder.name)
    return st.session_state["upload_dir"]


def run_dir(workflow: str) -> Path:
    """Where one run from the app writes its report; the Runs page lists these."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return settings().cache_dir / "ui-runs" / f"{stamp}-{workflow}-{uuid.uuid4().hex[:6]}"


def safe_name(name: str, index: int) -> str:
    """An uploaded file's name reduced to a plain file name; never a path."""
    stem = _SAFE.sub("_", Path(name).name).strip("._") or "file"
    return f"{index:04d}-{stem[-80:]}"


def save_uploads(
    files: list, folder_name: str, allowed: list[str], root: Path | None = None
) -> Path:
    """Store uploaded files (or the files inside uploaded zips) in a fresh folder of the session's
    temporary directory (or ``root``); type and size checked, names sanitised."""
    target = (root or session_dir()) / _SAFE.sub("_", folder_name)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    count = 0
    for upload in files:
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise ClipflowsError(f"{upload.name} is larger than {MAX_UPLOAD_MB} MB.")
        suffix = Path(upload.name).suffix.lower().lstrip(".")
        if suffix == "zip":
            count = _extract_zip(upload, target, allowed, count)
        elif suffix in allowed:
            (target / safe_name(upload.name, count)).write_bytes(upload.getvalue())
            count += 1
        else:
            raise ClipflowsError(f"{upload.name}: only {', '.join(allowed)} or zip files.")
    if count == 0:
        raise ClipflowsError(f"No {', '.join(allowed)} file among the uploads for {folder_name}.")
    return target


def _extract_zip(upload, target: Path, allowed: list[str], count: int) -> int:
    """Members are read as bytes and written under sanitised names: no path from the zip is used."""
    try:
        archive = zipfile.ZipFile(upload)
    except zipfile.BadZipFile:
        raise ClipflowsError(f"{upload.name} is not a readable zip file.") from None
    with archive:
        for member in archive.infolist():
            suffix = Path(member.filename).suffix.lower().lstrip(".")
            if member.is_dir() or suffix not in allowed:
                continue
            if member.file_size > MAX_UPLOAD_MB * 1024 * 1024:
                raise ClipflowsError(f"{member.filename} in {upload.name} is too large.")
            (target / safe_name(member.filename, count)).write_bytes(archive.read(member))
            count += 1
    return count


@contextmanager
def shown_errors() -> Iterator[None]:
    """User errors (missing weights, a dead LLM server, a bad file) as one message, no traceback."""
    try:
        yield
    except ClipflowsError as error:
        st.error(str(error))
    except (OSError, ValueError) as error:
        st.error(f"{type(error).__name__}: {error}")


def image_grid(paths: list[str], captions: list[str] | None = None, columns: int = 6) -> None:
    if not paths:
        st.caption("none")
        return
    cells = st.columns(columns)
    for i, path in enumerate(paths):
        with cells[i % columns]:
            st.image(path, caption=captions[i] if captions else None, width="stretch")
