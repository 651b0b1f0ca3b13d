"""Text-queried separation on held-out real sounds, with the cached CPU-trained models."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from clipflows.components.audio import AudioError
from clipflows.components.errors import EmptyInputError
from clipflows.components.separation.evaluation import model_estimates, score, si_sdr
from clipflows.components.separation.inference import Separator, read_blocks
from clipflows.components.separation.mixtures import held_out_mixtures
from clipflows.components.separation.query_encoders import query_encoder
from clipflows.components.separation.sources import build_sources
from clipflows.components.separation.store import DEFAULT_SEPARATOR, ensure_separator
from clipflows.components.separation.training import load_separator
from clipflows.components.settings import Settings, default_cache_dir
from clipflows.flows.separation import separate

pytestmark = pytest.mark.slow
CONFIG = DEFAULT_SEPARATOR


@pytest.fixture(scope="session")
def trained():
    """Both separators (trained once, cached in the user cache dir by config) and the test set."""
    settings = Settings(cache_dir=default_cache_dir())
    twin = CONFIG.model_copy(
        update={"model": CONFIG.model.model_copy(update={"conditioned": False})}
    )
    folders = {
        name: ensure_separator(settings, c) for name, c in (("text", CONFIG), ("none", twin))
    }
    splits = build_sources(CONFIG.sources, CONFIG.audio.sample_rate, settings.cache_dir)
    queries = query_encoder(CONFIG.query_encoder).encode_texts([s.query for s in splits])
    mixtures = held_out_mixtures(splits, CONFIG.audio.clip_samples, 24)
    separators = {n: Separator(load_separator(f)[0], CONFIG.audio) for n, f in folders.items()}
    return {
        "folders": folders,
        "splits": splits,
        "queries": queries,
        "mixtures": mixtures,
        "separators": separators,
    }


def test_the_text_query_beats_the_mixture_and_the_unconditioned_model(trained):
    names = [s.name for s in trained["splits"]]
    results = {
        name: score(
            name,
            model_estimates(sep, trained["mixtures"], trained["queries"]),
            trained["mixtures"],
            names,
        )
        for name, sep in trained["separators"].items()
    }
    # Floor: measured +5 dB mean SI-SDR improvement on these 24 held-out mixtures (README);
    # 2 dB leaves room for run-to-run training noise while failing a model that learned nothing.
    assert results["text"].si_sdr_improvement > 2.0, results["text"]
    assert results["text"].si_sdr_improvement > results["none"].si_sdr_improvement + 2.0


def test_swapping_the_query_separates_the_other_source(trained):
    separator, queries = trained["separators"]["text"], trained["queries"]
    wins = []
    for mixture in trained["mixtures"]:
        a, b = mixture.classes
        for asked, other in ((0, 1), (1, 0)):
            estimate = separator.separate_clips(mixture.mix[None], queries[mixture.classes[asked]])[
                0
            ]
            to_asked = si_sdr(estimate, mixture.sources[asked][None])[0]
            to_other = si_sdr(estimate, mixture.sources[other][None])[0]
            wins.append(to_asked > to_other)
    assert np.mean(wins) > 0.8, np.mean(wins)


def test_separate_writes_track_residual_and_figure(trained, tmp_path, prefect_harness):
    mixture = trained["mixtures"][0]
    rate = CONFIG.audio.sample_rate
    sf.write(tmp_path / "mix.wav", np.tile(mixture.mix, 3), rate)
    query = trained["splits"][mixture.classes[0]].query
    result = separate(
        str(tmp_path / "mix.wav"), query, str(tmp_path / "out.wav"), str(trained["folders"]["text"])
    )
    kept, _ = sf.read(result.separated)
    rest, _ = sf.read(result.residual)
    assert len(kept) == len(rest) == 3 * len(mixture.mix)
    assert np.allclose(kept + rest, np.tile(mixture.mix, 3), atol=2e-3)  # 16-bit files
    assert (tmp_path / "out.png").stat().st_size > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "mix.wav",
        "out.png",
        "out.residual.wav",
        "out.wav",
    ]


def test_bad_inputs_are_clear_errors_and_leave_nothing(trained, tmp_path, prefect_harness):
    model = str(trained["folders"]["text"])
    sf.write(tmp_path / "silence.wav", np.zeros(16000), 8000)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    with pytest.raises(AudioError, match="silent"):
        separate.fn(str(tmp_path / "silence.wav"), "dog", str(tmp_path / "a.wav"), model)
    with pytest.raises(AudioError, match="not a readable audio file"):
        separate.fn(str(tmp_path / "corrupt.wav"), "dog", str(tmp_path / "b.wav"), model)
    with pytest.raises(EmptyInputError, match="query is empty"):
        separate.fn(str(tmp_path / "silence.wav"), "  ", str(tmp_path / "c.wav"), model)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.wav", "silence.wav"]


def test_long_recordings_are_read_in_bounded_blocks(tmp_path):
    rate = 16000
    seconds = 150
    noise = np.random.default_rng(0).normal(0, 0.1, seconds * rate).astype(np.float32)
    sf.write(tmp_path / "long.flac", noise, rate)
    blocks = list(read_blocks(tmp_path / "long.flac", 8000, seconds=30))
    assert max(len(b) for b in blocks) <= 30 * 8000 + 100  # never the whole file at once
    assert abs(sum(len(b) for b in blocks) - seconds * 8000) < 100


def test_the_loss_curve_is_written_whole(tmp_path):
    from clipflows.components.separation.plots import plot_losses

    path = plot_losses(
        [1.0 / (step + 1) for step in range(120)], tmp_path / "loss.png", [(60, 0.1)]
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["loss.png"]  # no temporary file left
