"""What every page shares: settings, a per-session upload folder, safe uploads, error display,
and a run's status box with its progress bar."""

from __future__ import annotations

import concurrent.futures
import contextvars
import logging
import re
import shutil
import tempfile
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import streamlit as st

from clipflows.components.errors import ClipflowsError
from clipflows.components.settings import Settings, load_settings
from clipflows.flows.runtime.progress import ProgressTracker, watch_progress

IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MB = 1024 * 1024
RATIO_FLOOR = _MB  # smaller zip members may compress any amount (the total cap still holds)
T = TypeVar("T")
log = logging.getLogger(__name__)


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
    files: list,
    folder_name: str,
    allowed: list[str],
    root: Path | None = None,
    limit_mb: int | None = None,
) -> Path:
    """Store uploaded files (or the files inside uploaded zips) in a fresh folder of the session's
    temporary directory (or ``root``); type and size (``ui.upload_mb``) checked, names sanitised."""
    limits = settings().ui
    limit_mb = limit_mb or limits.upload_mb
    target = (root or session_dir()) / _SAFE.sub("_", folder_name)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    count = 0
    unzipped = _Budget(limits.unzipped_mb * _MB, limits.zip_ratio)
    for upload in files:
        if upload.size > limit_mb * _MB:
            raise ClipflowsError(f"{upload.name} is larger than {limit_mb} MB.")
        suffix = Path(upload.name).suffix.lower().lstrip(".")
        if suffix == "zip":
            try:
                count = _extract_zip(upload, target, allowed, count, unzipped)
            except ClipflowsError:
                shutil.rmtree(target, ignore_errors=True)  # nothing half-unpacked is kept
                raise
        elif suffix in allowed:
            (target / safe_name(upload.name, count)).write_bytes(upload.getvalue())
            count += 1
        else:
            raise ClipflowsError(f"{upload.name}: only {', '.join(allowed)} or zip files.")
    if count == 0:
        raise ClipflowsError(f"No {', '.join(allowed)} file among the uploads for {folder_name}.")
    return target


class _Budget:
    """What the zips of one upload may still expand to (their sizes as read, not as declared)."""

    def __init__(self, total: int, ratio: float):
        self.left, self.total, self.ratio = total, total, ratio


# What a damaged or unsupported zip raises while a member is read (CRC, deflate stream, a
# truncated archive, encryption, an unknown compression method).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)


def _extract_zip(upload, target: Path, allowed: list[str], count: int, budget: _Budget) -> int:
    """Members are read as bytes and written under sanitised names: no path from the zip is
    used. The bytes written are counted as they are read: together the zips may expand to
    ``ui.unzipped_mb``, and a member over 1 MB to ``ui.zip_ratio`` times its compressed size."""
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise ClipflowsError(f"{upload.name} is not a readable zip file.") from None
    with archive:
        for member in archive.infolist():
            suffix = Path(member.filename).suffix.lower().lstrip(".")
            if member.is_dir() or suffix not in allowed:
                continue
            allowed_ratio = max(RATIO_FLOOR, budget.ratio * max(member.compress_size, 1))
            limit = min(budget.left, allowed_ratio)
            try:
                data = _read_member(archive, member, limit)
            except _ZIP_ERRORS as error:
                raise ClipflowsError(
                    f"{upload.name} is damaged or uses a zip feature that is not supported "
                    f"({member.filename}: {_zip_problem(error)}); make the zip again."
                ) from None
            if data is None:
                raise ClipflowsError(_too_large(upload.name, member, budget, limit))
            budget.left -= len(data)
            (target / safe_name(member.filename, count)).write_bytes(data)
            count += 1
    return count


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: float) -> bytes | None:
    """The member's bytes, or None when it expands past ``limit`` (whatever its header says)."""
    if member.file_size > limit:
        return None
    chunks, size = [], 0
    with archive.open(member) as stream:
        while chunk := stream.read(_MB):
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    return b"".join(chunks)


def _too_large(name: str, member: zipfile.ZipInfo, budget: _Budget, limit: float) -> str:
    if limit < budget.left:
        return (
            f"{member.filename} in {name} expands more than {budget.ratio:g} times its compressed "
            f"size ({member.compress_size} bytes): refused as a possible zip bomb."
        )
    return (
        f"The zips for this set expand to more than {budget.total // _MB} MB "
        f"(ui.unzipped_mb; stopped at {member.filename} in {name}); upload fewer files."
    )


def _zip_problem(error: BaseException) -> str:
    if isinstance(error, RuntimeError) and "encrypted" in str(error):
        return "it is encrypted"
    if isinstance(error, NotImplementedError):
        return "its compression method is not supported"
    return "its data does not match its checksum or is cut short"


def error_message(error: BaseException) -> str:
    """What the page says about an error: the message of a user error (a missing folder, a bad
    file, a dead LLM server) without the exception's type, an OS error by its reason and path,
    and for anything else only that it happened (the traceback, with server paths, is logged)."""
    if isinstance(error, ClipflowsError | ValueError):
        return str(error)
    if isinstance(error, OSError):
        if error.filename is None or not error.strerror:
            return str(error)
        reason = {FileNotFoundError: "does not exist", PermissionError: "cannot be read"}.get(
            type(error), error.strerror.lower()
        )
        where = "on the server running the app" if isinstance(error, FileNotFoundError) else ""
        return f"{error.filename} {reason}{' ' + where if where else ''} ({error.strerror})."
    return (
        f"The run failed with an unexpected {type(error).__name__}; the server's log has the "
        "details. Please report it."
    )


@contextmanager
def shown_errors() -> Iterator[None]:
    """Any error as one message on the page, never a traceback (that goes to the server log)."""
    try:
        yield
    except Exception as error:
        if not isinstance(error, ClipflowsError | OSError | ValueError):
            log.exception("Unexpected error in the web app")
        st.error(error_message(error))


@contextmanager
def running(label: str, done: str, failed: str | None = None) -> Iterator[None]:
    """A status box for one run: ``label`` while it runs, ``done`` when it ends; on an error the
    box turns to an error state and says ``failed`` ("X done" -> "X failed"), and the error is
    one message below it."""
    failed = failed or (f"{done[: -len(' done')]} failed" if done.endswith(" done") else "Failed")
    with shown_errors(), st.status(label, expanded=True) as status:
        try:
            yield
        except Exception:
            status.update(label=failed, state="error", expanded=True)
            raise
        status.update(label=done, state="complete")


def with_progress(work: Callable[[], T], every_s: float = 0.25) -> T:
    """Run ``work`` (a flow call) and show its progress as a bar with the current step.

    The work runs in a thread of its own, with this thread's context (Prefect's settings) and a
    progress watcher; this thread redraws the bar until it ends, then returns its result or
    raises its error."""
    tracker = ProgressTracker()
    bar = st.progress(0.0, text="Starting…")
    context = contextvars.copy_context()

    def watched() -> T:
        with watch_progress(tracker):
            return work()

    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="clipflows-run")
    try:
        future = pool.submit(context.run, watched)
        while not concurrent.futures.wait([future], timeout=every_s).done:
            fraction, text = tracker.snapshot()
            bar.progress(fraction, text=text)
    finally:
        pool.shutdown(wait=False)  # a session that stops waiting leaves the run to finish
    result = future.result()  # the work's error, if any, is raised here
    bar.progress(1.0, text="Done")
    return result


def image_grid(paths: list[str], captions: list[str] | None = None, columns: int = 6) -> None:
    if not paths:
        st.caption("none")
        return
    cells = st.columns(columns)
    for i, path in enumerate(paths):
        with cells[i % columns]:
            st.image(path, caption=captions[i] if captions else None, width="stretch")
