"""Training run in a flow's thread pool draws only from its own seeded generators: torch's
process-wide random state (shared by every thread) is as it was, and a seed gives one result
(issue 27.5)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from test_separation_parts import synthetic_splits

from clipflows.components.music.training import (
    PairedFeatures,
    RetrievalTrainConfig,
    train_retrieval,
)
from clipflows.components.separation.model import SeparatorConfig
from clipflows.components.separation.training import (
    SeparationTrainConfig,
    load_separator,
    train_separator,
)


def _in_a_thread(run: Callable[[], object]) -> object:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def _assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def _paired_features() -> PairedFeatures:
    rng = np.random.default_rng(0)
    clips = rng.integers(0, 24, 48)
    music = rng.normal(size=(24, 8)).astype(np.float32)[clips]
    video = (music @ rng.normal(size=(8, 10))).astype(np.float32)
    text = (music @ rng.normal(size=(8, 6))).astype(np.float32)
    return PairedFeatures(video, text, music, clips)


def test_music_training_leaves_torch_global_random_state_alone_and_repeats(tmp_path):
    features = _paired_features()
    config = RetrievalTrainConfig(steps=6, batch_size=16, checkpoint_every=3, seed=7)
    torch.manual_seed(1234)
    before = torch.random.get_rng_state()

    def train(folder: Path):
        return train_retrieval(features, config, folder)

    first_model, first = _in_a_thread(lambda: train(tmp_path / "a"))
    assert torch.equal(torch.random.get_rng_state(), before)
    second_model, second = _in_a_thread(lambda: train(tmp_path / "b"))
    assert torch.equal(torch.random.get_rng_state(), before)
    assert first.losses == second.losses
    _assert_same_weights(first_model.state_dict(), second_model.state_dict())
    # The model keeps its own dropout modules once training is over.
    assert any(isinstance(m, torch.nn.Dropout) for m in first_model.modules())


def test_music_training_still_applies_dropout(tmp_path):
    """Same seed, same batch and weights: only dropout (now drawn from the run's generator)
    makes the first step's loss differ."""
    features = _paired_features()
    config = RetrievalTrainConfig(steps=1, batch_size=16, seed=0)
    without = config.model_copy(update={"model": config.model.model_copy(update={"dropout": 0})})
    heavy = config.model_copy(update={"model": config.model.model_copy(update={"dropout": 0.5})})
    _, plain = train_retrieval(features, without, tmp_path / "a")
    _, dropped = train_retrieval(features, heavy, tmp_path / "b")
    _, again = train_retrieval(features, heavy, tmp_path / "c")
    assert plain.losses[0] != dropped.losses[0]
    assert dropped.losses == again.losses


def test_separation_training_leaves_torch_global_random_state_alone_and_repeats(tmp_path):
    config = SeparationTrainConfig(
        steps=2,
        batch_size=2,
        checkpoint_every=2,
        validation_mixtures=2,
        seed=5,
        model=SeparatorConfig(depth=2, base_channels=4, feature_maps=4, noise_heads=2),
    )
    queries = np.eye(3, 8, dtype=np.float32)
    torch.manual_seed(1234)
    before = torch.random.get_rng_state()

    def train(folder: Path):
        return train_separator(config, synthetic_splits(), queries, folder)

    first = _in_a_thread(lambda: train(tmp_path / "a"))
    assert torch.equal(torch.random.get_rng_state(), before)
    second = _in_a_thread(lambda: train(tmp_path / "b"))
    assert torch.equal(torch.random.get_rng_state(), before)
    assert first.losses == second.losses
    _assert_same_weights(
        load_separator(tmp_path / "a")[0].state_dict(),
        load_separator(tmp_path / "b")[0].state_dict(),
    )
