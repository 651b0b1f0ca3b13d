"""Packaging: every folder that ships files is a listed package, so the build prints no
setuptools warnings and the wheel holds the web app's pages and the agents' data tables."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]


def _shipped_folders() -> dict[str, Path]:
    """Dotted package name -> folder, for every folder under a package root that holds files."""
    found = {}
    for package, root in SETUPTOOLS["package-dir"].items():
        for folder in [REPO / root, *sorted((REPO / root).rglob("*"))]:
            hidden = folder.name.startswith((".", "__"))  # __pycache__, .ruff_cache
            if folder.is_dir() and not hidden and any(p.is_file() for p in folder.iterdir()):
                parts = folder.relative_to(REPO / root).parts
                found[".".join([package, *parts])] = folder
    return found


def test_every_folder_that_ships_files_is_a_listed_package():
    missing = sorted(set(_shipped_folders()) - set(SETUPTOOLS["packages"]))
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_the_wheel_builds_without_warnings_and_holds_pages_and_data(tmp_path):
    source = tmp_path / "source"  # a copy: the build writes build/ and .egg-info beside it
    for folder in SETUPTOOLS["package-dir"].values():
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__*__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["-w", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    warnings = [line for line in (built.stdout + built.stderr).splitlines() if "Warning" in line]
    assert not warnings, warnings
    (wheel,) = (tmp_path / "dist").glob("clipflows-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "clipflows/ui/views/runs.py" in names and "clipflows/ui/app.py" in names
    assert "clipflows/agents/data/llms.json" in names
