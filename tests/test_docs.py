"""The documentation site builds with every link checked, and the README's links lead somewhere.

`mkdocs build --strict` fails on a missing page, a page left out of the nav, a link to a page or
an anchor that does not exist; the README's relative links are checked here against the files
of the repository (and an anchor into docs/ against the built page).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
README_LINES = 150  # the front door: what a newcomer needs in ten minutes, the rest in docs/


def build_site(source: Path, site: Path) -> subprocess.CompletedProcess:
    """`mkdocs build --strict` of the mkdocs.yml in ``source`` into ``site``."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's notice about its successor
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(source / "mkdocs.yml")]
        + ["-d", str(site)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _without_code(text: str) -> str:
    """Markdown with fenced blocks and inline code removed (a link there is not a link)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def relative_links(text: str) -> list[str]:
    """Targets of the Markdown links in ``text`` that are not URLs or in-page anchors."""
    targets = re.findall(r"\]\(([^)\s]+)\)", _without_code(text))
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:|#", t)]


def broken_links(markdown: Path, site: Path | None = None) -> list[str]:
    """The relative links of ``markdown`` whose file does not exist, or whose anchor into a
    docs/ page is not an id on that page of the built ``site``."""
    broken = []
    for target in relative_links(markdown.read_text()):
        path, _, anchor = target.partition("#")
        file = (markdown.parent / path).resolve()
        if not file.exists():
            broken.append(target)
        elif anchor and site is not None and (REPO / "docs") in file.parents:
            page = file.relative_to(REPO / "docs").with_suffix("")
            html = site / ("index.html" if page.name == "index" else f"{page}/index.html")
            if f'id="{anchor}"' not in html.read_text():
                broken.append(target)
    return broken


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    built = build_site(REPO, site)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return site


def test_the_site_builds_strictly_with_a_page_for_every_nav_entry(site):
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())

    def pages(nav) -> list[str]:
        found = []
        for entry in nav:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            found += pages(value) if isinstance(value, list) else [value]
        return found

    listed = pages(config["nav"])
    assert sorted(listed) == sorted(p.name for p in (REPO / "docs").glob("*.md"))
    for page in listed:
        name = Path(page).stem
        assert (site / ("index.html" if name == "index" else f"{name}/index.html")).is_file()


def test_a_broken_link_or_anchor_in_the_docs_fails_the_build(tmp_path):
    for bad in ("[a page](no-such-page.md)", "[an anchor](world.md#no-such-heading)"):
        copy = tmp_path / bad[3:8]
        shutil.copytree(REPO / "docs", copy / "docs")
        shutil.copy2(REPO / "mkdocs.yml", copy / "mkdocs.yml")
        with (copy / "docs" / "world.md").open("a") as page:
            page.write(f"\n{bad}\n")
        built = build_site(copy, tmp_path / "site")
        assert built.returncode != 0, bad
        assert bad[bad.index("(") + 1 : -1] in built.stderr, built.stderr[-2000:]


def test_every_relative_link_in_the_readme_leads_to_a_file_or_heading(site):
    readme = REPO / "README.md"
    assert relative_links(readme.read_text())  # it points at the docs
    assert broken_links(readme, site) == []


def test_the_readme_link_check_finds_a_broken_link(tmp_path, site):
    text = (REPO / "README.md").read_text()
    (tmp_path / "docs").symlink_to(REPO / "docs")
    (tmp_path / "deploy").symlink_to(REPO / "deploy")
    bad = "[gone](docs/gone.md) [no heading](docs/index.md#no-such-heading) `[code](x.md)`"
    (tmp_path / "README.md").write_text(text + "\n" + bad + "\n")
    found = broken_links(tmp_path / "README.md", site)
    assert found == ["docs/gone.md", "docs/index.md#no-such-heading"]


def test_the_readme_stays_a_front_door():
    assert len((REPO / "README.md").read_text().splitlines()) <= README_LINES


def test_the_python_in_the_docs_is_the_readme_python_that_runs():
    """tests/test_readme.py runs the README's Python blocks; the pages show only those."""
    pattern = re.compile(r"```python\n(.*?)```", re.S)
    tested = pattern.findall((REPO / "README.md").read_text())
    for page in (REPO / "docs").glob("*.md"):
        for block in pattern.findall(page.read_text()):
            assert block in tested, (
                f"{page.name}: a Python example tests/test_readme.py does not run"
            )
