"""What every workflow's report shares: Markdown tables, image thumbnails for HTML, and writing a
report's files as one set together with the run's own record (``run.json``).

A report folder may be new or an earlier run's (``-o report/`` twice), and may hold a run's other
outputs (separated audio, generated music), so a report is swapped in file by file, not as a
whole folder. Holding a lock on the folder (two runs writing one folder take turns), a writer
first removes the partial files a killed writer left, then writes its files under unique
temporary names (a failure on the way, such as a full disk, removes them and leaves the earlier
report whole), renames them into place, removes the earlier report's files that this one does
not write, and renames ``run.json`` last: it says which workflow wrote the folder, when, and
which files belong to it, with each file's SHA-256. A run killed between renames leaves files
of two runs; the hashes no longer match, so :func:`read_run_record` vouches for none of them,
and the next writer replaces the lot.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import html
import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from clipflows.components.errors import ReportFolderError
from clipflows.components.files import final_mode, temporary_name
from clipflows.components.images import decode_image, read_bytes

REPORT_FILES = ("result.json", "report.md", "report.html")
RUN_FILE = "run.json"
# A file name that is not UTF-8 reaches text as lone surrogates (os.fsdecode), which UTF-8
# cannot hold; a report shows such a name's bytes escaped (\xff) rather than failing the run.
_SURROGATE = re.compile("[\ud800-\udfff]")


class ReportRecord(BaseModel):
    """The record a report folder keeps of the run that wrote it."""

    workflow: str
    finished: datetime
    files: list[str]
    # name -> SHA-256 of each file written; empty in records from before hashes were kept.
    sha256: dict[str, str] = {}


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """The lines of a Markdown table (pipes inside cells are escaped)."""

    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return [line(headers), "|" + "---|" * len(headers), *(line(row) for row in rows)]


def thumbnail_html(path: str, size: int = 96) -> str:
    """An inline PNG thumbnail of an image file, or '' when it cannot be read."""
    try:
        image = decode_image(read_bytes(path))
    except ValueError:
        return ""
    image.thumbnail((size, size))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}" title="{html.escape(Path(path).name)}">'


def check_report_folder(folder: str | Path) -> Path:
    """``folder`` as a report folder, or :class:`ReportFolderError` when it cannot be one (it is
    a file, lies under a file, or cannot be written). Flows call it before any work, so a bad
    ``-o`` fails at the start, not after the run; the folder itself is made only when written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ReportFolderError(
            f"The report folder {folder} is a file; give a folder (new, or an earlier report's)."
        )
    nearest = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not nearest.is_dir():
        raise ReportFolderError(
            f"The report folder {folder} cannot be made: {nearest} is a file, not a folder."
        )
    if not os.access(nearest, os.W_OK | os.X_OK):
        where = "" if nearest == folder else f" ({nearest} is where it would be made)"
        raise ReportFolderError(
            f"The report folder {folder} cannot be written{where}: no write permission. "
            "Give another folder with -o."
        )
    return folder


@contextmanager
def _taking_turns(folder: Path) -> Iterator[bool]:
    """An exclusive lock on ``folder`` itself (``flock`` on its descriptor: no lock file left
    behind), held while a report set is swapped in; other processes and threads wait. Yields
    whether the lock is held (not where flock is missing or refused)."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): each rename is still atomic on its own
        yield False
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        # Some network file systems refuse flock on a folder: there, each rename is still atomic.
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            held = True
        except OSError:
            held = False
        yield held
    finally:
        os.close(descriptor)  # releases the lock


def write_report(folder: Path, workflow: str, files: Mapping[str, str]) -> dict[str, str]:
    """Write ``files`` (name -> text) into ``folder`` as one set, then ``run.json`` with their
    hashes; returns name -> path of every file written. Nothing is renamed until everything is
    written; the earlier report's files that this set lacks are removed."""
    folder = check_report_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: _escape_surrogates(text) for name, text in files.items()}
    record = ReportRecord(
        workflow=workflow,
        finished=datetime.now(UTC),
        files=list(files),
        sha256={name: hashlib.sha256(text.encode()).hexdigest() for name, text in files.items()},
    )
    texts = {**files, RUN_FILE: record.model_dump_json(indent=1)}
    written: dict[str, Path] = {}
    with _taking_turns(folder) as held:
        earlier = _read_record(folder)
        if held:  # no other writer is between its writes now: every partial is a dead one's
            _remove_partials(folder, {*texts, *_own_files(earlier)})
        try:
            for name, text in texts.items():
                written[name] = temporary_name(folder / name)
                written[name].write_text(text, encoding="utf-8", newline="")  # bytes as hashed
                os.chmod(written[name], final_mode(folder / name))
            for name in files:
                os.replace(written[name], folder / name)
            for name in _own_files(earlier) - set(texts):
                (folder / name).unlink(missing_ok=True)
            os.replace(written[RUN_FILE], folder / RUN_FILE)
        finally:
            for partial in written.values():
                partial.unlink(missing_ok=True)
    return {name: str(folder / name) for name in files}


def _escape_surrogates(text: str) -> str:
    """``text`` with each lone surrogate as the byte it stands for (``\\xff``), or its code."""

    def escaped(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"

    return _SURROGATE.sub(escaped, text)


def _remove_partials(folder: Path, names: Iterable[str]) -> None:
    """Remove the temporary files (see ``files.temporary_name``) of ``names`` in ``folder``."""
    for name in names:
        stem, suffix = Path(name).stem, Path(name).suffix
        for partial in folder.glob(f".{glob.escape(stem)}.*.partial{glob.escape(suffix)}"):
            partial.unlink(missing_ok=True)


def _own_files(record: ReportRecord | None) -> set[str]:
    """The plain file names an earlier record lists (never a path: the record is only read)."""
    names = record.files if record else []
    return {name for name in names if name and Path(name).name == name and name != RUN_FILE}


def _read_record(folder: Path) -> ReportRecord | None:
    """``run.json`` as written, unchecked against the files, or None when missing or unreadable."""
    try:
        return ReportRecord.model_validate(json.loads((folder / RUN_FILE).read_text()))
    except (OSError, ValueError):
        return None


def read_run_record(folder: Path) -> ReportRecord | None:
    """The record of the run that wrote ``folder``, or None: not a report, unreadable, or its
    files are not the ones it hashed (a run killed between renames, or a hand edit)."""
    record = _read_record(folder)
    if record is None:
        return None
    if record.sha256 and not set(record.sha256) == set(record.files) == _own_files(record):
        return None  # it hashes other files than it lists, or names paths outside the folder
    for name, digest in record.sha256.items():
        try:
            with (folder / name).open("rb") as handle:
                found = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError:
            return None
        if found != digest:
            return None
    return record
