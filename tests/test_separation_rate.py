"""Separation output: at the input's sample rate unless asked otherwise, said in the CLI, and
written with the same permissions as every other output file."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import soundfile as sf

from clipflows.flows.separation import separate


@pytest.fixture
def recording_16k(tmp_path):
    rng = np.random.default_rng(0)
    samples = (0.1 * rng.standard_normal(3 * 16000)).astype(np.float32)
    sf.write(tmp_path / "mix.wav", samples, 16000)
    return tmp_path / "mix.wav"


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_output_is_at_the_input_rate_unless_the_model_rate_is_asked(
    tiny_model, recording_16k, tmp_path
):
    result = separate.fn(str(recording_16k), "dog barking", str(tmp_path / "a.wav"), tiny_model)
    assert (result.sample_rate, result.model_rate) == (16000, 8000)
    for path in (result.separated, result.residual):
        info = sf.info(path)
        assert info.samplerate == 16000 and abs(info.frames - 3 * 16000) <= 16
    kept = separate.fn(
        str(recording_16k),
        "dog barking",
        str(tmp_path / "b.wav"),
        tiny_model,
        keep_model_rate=True,
    )
    assert kept.sample_rate == 8000 and sf.info(kept.separated).samplerate == 8000
    assert sf.info(kept.separated).frames == 3 * 8000


def test_wav_files_get_the_same_permissions_as_the_figure(
    tiny_model, recording_16k, tmp_path, umask_022
):
    result = separate.fn(str(recording_16k), "dog barking", str(tmp_path / "a.wav"), tiny_model)
    modes = {
        name: stat.S_IMODE(os.stat(path).st_mode)
        for name, path in (
            ("separated", result.separated),
            ("residual", result.residual),
            ("figure", result.figure),
        )
    }
    assert modes == {"separated": 0o644, "residual": 0o644, "figure": 0o644}


def test_the_cli_says_the_rate_it_wrote(
    tiny_model, recording_16k, tmp_path, prefect_harness, monkeypatch
):
    from typer.testing import CliRunner

    from clipflows.flows.cli.app import build_app
    from clipflows.flows.cli.common import console

    monkeypatch.setattr(console, "width", 1000)
    args = ["separate", str(recording_16k), "dog barking", "--model", str(tiny_model)]
    run = CliRunner().invoke(build_app(), [*args, "-o", str(tmp_path / "a.wav")])
    assert run.exit_code == 0, run.output
    assert "at 16000 Hz, the input's rate (separated at 8000 Hz)" in run.output
    run = CliRunner().invoke(build_app(), [*args, "-o", str(tmp_path / "b.wav"), "--model-rate"])
    assert run.exit_code == 0, run.output
    assert "at 8000 Hz, the model's rate" in run.output


def test_training_the_default_separator_on_first_use_reports_its_progress(
    tiny_model, recording_16k, tmp_path, monkeypatch
):
    """The first ``separate`` trains the default separator (~95 s on 2 cores): progress lines
    come while it trains, not silence."""
    from clipflows.components.settings import Settings
    from clipflows.flows import separation

    reported = []

    def recording_progress(label, *args, **kwargs):
        return lambda done, total, *extra: reported.append((label, done, total))

    def first_use(settings, config=None, progress=None):
        for step in (1, 300, 600):
            progress(step, 600, 0.5)
        return tiny_model

    monkeypatch.setattr(separation, "log_progress", recording_progress)
    monkeypatch.setattr(separation, "ensure_separator", first_use)
    out = str(tmp_path / "a.wav")
    settings = Settings(cache_dir=tmp_path / "cache")
    separation.separate.fn(str(recording_16k), "dog barking", out, settings=settings)
    assert [r[1:] for r in reported] == [(1, 600), (300, 600), (600, 600)]
    assert "separator" in reported[0][0]
