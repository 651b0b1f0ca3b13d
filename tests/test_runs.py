"""Earlier runs: a separation with a report folder is recorded like every other workflow's run,
so the Runs page lists it."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from clipflows.flows.runtime.runs import local_runs
from clipflows.flows.separation import separate


def test_a_separation_with_a_report_folder_is_listed_as_a_run(tiny_model, tmp_path):
    samples = (0.1 * np.random.default_rng(0).standard_normal(8000)).astype(np.float32)
    sf.write(tmp_path / "mix.wav", samples, 8000)
    runs = tmp_path / "runs"
    report = runs / "20260101-000000-separation"
    result = separate.fn(
        str(tmp_path / "mix.wav"),
        "dog barking",
        str(report / "separated.wav"),
        str(tiny_model),
        report=str(report),
    )
    listed = local_runs(runs)
    assert [(r.flow, r.report) for r in listed] == [("separation", str(report))]
    assert json.loads((report / "result.json").read_text())["separated"] == result.separated
    assert "dog barking" in (report / "report.md").read_text()
