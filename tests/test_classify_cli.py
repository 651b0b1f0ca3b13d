"""`clipflows classify` checks its inputs before the Prefect server starts or any image is
encoded, in one Error: line, and its summary says what the result cannot be trusted for and how
it was made (issue 24)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from clipflows.components.classification.evidence import ChanceLevel
from clipflows.components.classification.report import MethodAccuracy
from clipflows.components.provenance import Provenance

# The CLI in a subprocess that says, last, whether it imported Prefect or torch.
RUN_CLI = textwrap.dedent(
    """
    import atexit, sys
    heavy = ("prefect", "torch")
    atexit.register(lambda: print("imported:", sorted(set(heavy) & set(sys.modules)), file=sys.stderr))
    sys.argv = ["clipflows", *sys.argv[1:]]
    from clipflows.flows.cli import main
    main()
    """
)


def _refused(*args: str) -> tuple[str, str]:
    """(the one Error: line, what was imported) of a command refused before its flow."""
    result = subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "1000"},
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 2, result.stderr[-3000:]
    assert lines[0].startswith("Error: ") and not result.stdout, result.stderr[-3000:]
    return lines[0], lines[1]


@pytest.fixture
def classes(tmp_path: Path) -> Path:
    """Two class folders of three images each."""
    for name in ("cats", "dogs"):
        (tmp_path / "classes" / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (16, 16), (40 * i, 0, 0)).save(
                tmp_path / "classes" / name / f"{i}.png"
            )
    return tmp_path / "classes"


def test_a_missing_description_file_is_one_error_line_before_prefect_or_torch(classes, tmp_path):
    missing = tmp_path / "missing.json"
    line, imported = _refused("classify", str(classes), "--descriptions", str(missing))
    assert line == f"Error: No description file at {missing}."
    assert imported == "imported: []"


def test_a_description_file_for_other_classes_is_one_error_line(classes, tmp_path):
    other = tmp_path / "pets_prompt_pairs.json"
    entry = {"attr_type": "fur", "prompt_pair": ["spotted fur", "long fur"]}
    other.write_text(
        json.dumps({"0_1": {"classes": ["Bengal", "Persian"], "prompt_pairs": [entry]}})
    )
    line, imported = _refused("classify", str(classes), "--descriptions", str(other))
    assert str(other) in line and "Bengal" in line
    assert imported == "imported: []"


def test_a_missing_model_folder_is_one_error_line_before_prefect(classes, tmp_path):
    line, imported = _refused(
        "classify",
        str(classes),
        "--descriptions",
        "world",
        "--clip",
        f"local-dir:{tmp_path}/no-model",
    )
    assert "no-model" in line
    assert "prefect" not in imported


def test_the_summary_prints_the_warnings_the_level_to_beat_and_how_it_was_made(capsys):
    from clipflows.flows.cli.classify import accuracy_table, print_classify_evidence
    from clipflows.flows.cli.common import console

    class Result:
        test_images = 21
        methods = [
            MethodAccuracy(
                method="one template",
                accuracy=4 / 21,
                correct=4,
                total=21,
                interval=(0.0767, 0.4002),
                no_better_than_chance=True,
            )
        ]
        warnings = ["No better than chance: one template."]
        chance = ChanceLevel(classes=5, chance=0.2, majority_class="Bengal", majority=0.19)
        provenance = Provenance(clip="world", clip_weights="sha256:abc")

    console.print(accuracy_table(Result))
    print_classify_evidence(Result)
    out = capsys.readouterr().out
    assert "19.0%" in out and "7.7%-40.0%" in out
    assert "Warning: No better than chance: one template." in out
    assert "To beat: chance 20.0% (5 classes); the most common class, Bengal" in out
    assert "Made with: CLIP: world (sha256:abc); clipflows: " in out
