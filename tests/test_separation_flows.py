"""The separation flows' contracts on tiny models: training writes a model folder the separator
loads, and the evaluation scores every method on the same held-out mixtures (issue 27.6)."""

from __future__ import annotations

import json

import pytest
from test_separation_parts import tiny_config

from clipflows.components.separation.training import load_separator
from clipflows.components.settings import Settings
from clipflows.flows.separation import evaluate_separation, train_separator_flow

pytestmark = pytest.mark.slow


def test_training_writes_a_model_the_separator_loads(tmp_path, prefect_harness):
    settings = Settings(cache_dir=tmp_path / "cache")
    folder = tmp_path / "model"
    assert train_separator_flow(str(folder), tiny_config(2), settings) == str(folder)
    model, config = load_separator(folder)
    assert config == tiny_config(2) and not model.training
    assert (folder / "loss.png").is_file()


def test_the_evaluation_scores_every_method_and_writes_them(tmp_path, prefect_harness):
    settings = Settings(cache_dir=tmp_path / "cache")
    result = evaluate_separation(
        settings, tiny_config(2), mixtures=4, output=str(tmp_path / "eval")
    )
    methods = [m.method for m in result.methods]
    assert methods == ["mixture", "text-queried", "unconditioned", "ideal ratio mask"]
    assert result.mixtures == 4 and set(result.train_seconds) == {"text-queried", "unconditioned"}
    scores = {m.method: m.si_sdr_improvement for m in result.methods}
    assert scores["mixture"] == pytest.approx(0.0, abs=1e-6)  # the mixture improves nothing
    assert scores["ideal ratio mask"] > scores["mixture"]  # the oracle mask separates
    written = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert [m["method"] for m in written["methods"]] == methods
    markdown = (tmp_path / "eval" / "evaluation.md").read_text()
    assert markdown.startswith("Held-out mixtures: 4")
    assert all(f"| {method} |" in markdown for method in methods)
