"""The layering (pyproject's import-linter contracts) holds, and a deliberate violation breaks it."""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("components", "agents", "flows", "ui")
LINT = (
    "import sys\n"
    "sys.path[:0] = sys.argv[1:]\n"
    "from importlinter.cli import lint_imports\n"
    "raise SystemExit(lint_imports(config_filename='pyproject.toml', no_cache=True))\n"
)


def _lint(tree: Path) -> subprocess.CompletedProcess:
    """lint-imports on a copy of the packages laid out as the clipflows namespace. Python runs
    without site (-S), so the editable install cannot point the names back at this checkout."""
    paths = [str(tree), *site.getsitepackages()]
    return subprocess.run(
        [sys.executable, "-S", "-c", LINT, *paths],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(
            REPO / name, tmp_path / "clipflows" / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_layering_contracts_hold(tree):
    done = _lint(tree)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "violation", "contract"),
    [
        ("components/clip/spec.py", "import clipflows.flows.runtime.runs", "ui -> flows -> agents"),
        ("agents/judge.py", "import clipflows.ui.common", "ui -> flows -> agents"),
        (
            "components/music/library.py",
            "import clipflows.components.separation.model",
            "components:",
        ),
        ("components/cache.py", "import clipflows.components.clip.spec", "components:"),
    ],
)
def test_a_deliberate_violation_breaks_the_run(tree, module, violation, contract):
    path = tree / "clipflows" / module
    path.write_text(path.read_text() + f"\n{violation}  # deliberate\n")
    done = _lint(tree)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout and contract in done.stdout.split("BROKEN")[0][-400:]
