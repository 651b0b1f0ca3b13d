"""A report writer killed between its renames: the folder's record vouches for no mixed set, and
the next run leaves one whole report with none of the dead writer's partial files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from clipflows.components.reports import read_run_record, write_report

NAMES = ("result.json", "report.md", "report.html")

# The child renames its first file into place, then dies at once (no cleanup runs, as on
# SIGKILL), leaving the other files' and run.json's partials in the folder.
KILLED_AFTER_ONE_RENAME = """
    import os, sys
    from pathlib import Path
    from clipflows.components.reports import write_report

    real_replace = os.replace
    renames = []

    def dying_replace(source, target):
        if renames:
            os._exit(9)
        renames.append(target)
        return real_replace(source, target)

    os.replace = dying_replace
    write_report(Path(sys.argv[1]), "new", {name: "new" for name in %r})
"""


def test_a_writer_killed_between_renames_leaves_no_vouched_mix_and_no_lasting_partials(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "report"
    write_report(folder, "old", {name: "old" for name in NAMES})
    script = textwrap.dedent(KILLED_AFTER_ONE_RENAME % (NAMES,))
    child = subprocess.run([sys.executable, "-c", script, str(folder)], timeout=120)
    assert child.returncode == 9
    assert (folder / "result.json").read_text() == "new"  # the kill came between renames
    assert (folder / "report.md").read_text() == "old"
    assert any(".partial" in p.name for p in folder.iterdir())
    assert read_run_record(folder) is None  # the old run.json no longer matches its files

    write_report(folder, "next", {name: "next" for name in NAMES})
    assert sorted(p.name for p in folder.iterdir()) == sorted([*NAMES, "run.json"])
    assert {(folder / name).read_text() for name in NAMES} == {"next"}
    assert read_run_record(folder).workflow == "next"


def test_a_report_file_edited_after_the_run_is_not_vouched_for(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    write_report(folder, "set-difference", {name: "diff" for name in NAMES})
    assert read_run_record(folder).sha256.keys() == set(NAMES)
    (folder / "report.md").write_text("someone else's text")
    assert read_run_record(folder) is None
