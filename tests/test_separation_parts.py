"""Separation building blocks: query encoders, resumable training with a validation split."""

from __future__ import annotations

import numpy as np
import pytest

from clipflows.components.checkpoints import CheckpointMismatchError
from clipflows.components.errors import ClipflowsError
from clipflows.components.separation.model import SeparatorConfig
from clipflows.components.separation.query_encoders import query_encoder
from clipflows.components.separation.sources import SourceSplit
from clipflows.components.separation.training import (
    SeparationTrainConfig,
    load_separator,
    noise_invariant_loss,
    split_validation,
    train_separator,
)


def test_query_encoders_share_one_interface(settings, world_spec, tmp_path):
    from PIL import Image

    sentence = query_encoder("sentence")
    vectors = sentence.encode_texts(["a dog barking", "a dog barks", "a piano playing"])
    assert vectors.shape == (3, sentence.dim) and np.allclose(np.linalg.norm(vectors, axis=1), 1)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # it knows what a bark is
    world = settings.model_copy(update={"clip": world_spec})
    clip_text = query_encoder("clip-text", world)
    assert clip_text.encode_texts(["a red circle"]).shape == (1, clip_text.dim)
    frames = []
    for i, colour in enumerate(["red", "darkred"]):
        Image.new("RGB", (64, 64), colour).save(tmp_path / f"{i}.png")
        frames.append(str(tmp_path / f"{i}.png"))
    image_query = query_encoder("clip-image", world).encode_images(frames)
    assert image_query.shape == (1, clip_text.dim)
    assert np.isclose(np.linalg.norm(image_query), 1, atol=1e-5)
    with pytest.raises(ValueError, match="sentence"):
        query_encoder("telepathy")


def synthetic_splits() -> list[SourceSplit]:
    rng = np.random.default_rng(0)
    t = np.arange(8000 * 6) / 8000
    tones = [np.sin(2 * np.pi * f * t) * 0.3 for f in (300, 1200, 2500)]
    return [
        SourceSplit(
            name=f"tone{i}",
            query=f"tone {i}",
            train=x + rng.normal(0, 1e-3, x.shape),
            test=x[:8000],
        )
        for i, x in enumerate(tones)
    ]


def test_validation_audio_is_cut_from_training_audio():
    train, held = split_validation(synthetic_splits(), 0.25)
    for split, part, whole in zip(train, held, synthetic_splits(), strict=True):
        assert len(split.train) + len(part.train) == len(whole.train)
        assert np.array_equal(np.concatenate([split.train, part.train]), whole.train)


def tiny_config(steps: int) -> SeparationTrainConfig:
    return SeparationTrainConfig(
        steps=steps,
        batch_size=2,
        checkpoint_every=2,
        validation_mixtures=2,
        model=SeparatorConfig(depth=2, base_channels=4, feature_maps=4),
    )


def test_training_resumes_from_its_last_checkpoint(tmp_path):
    config = tiny_config(steps=4)
    queries = np.eye(3, 8, dtype=np.float32)
    first = train_separator(config, synthetic_splits(), queries, tmp_path)
    assert first.resumed_from == 0 and len(first.losses) == 4
    assert [step for step, _ in first.validation] == [2, 4]
    longer = config.model_copy(update={"steps": 6})
    second = train_separator(longer, synthetic_splits(), queries, tmp_path)
    assert second.resumed_from == 4 and len(second.losses) == 6
    assert second.losses[:4] == first.losses and [s for s, _ in second.validation] == [2, 4, 6]
    model, loaded = load_separator(tmp_path)
    assert loaded.steps == 6 and model.config.query_dim == 8


def test_a_resume_under_another_config_or_other_sounds_is_refused(tmp_path):
    config = tiny_config(steps=2)
    queries = np.eye(3, 8, dtype=np.float32)
    train_separator(config, synthetic_splits(), queries, tmp_path)
    other = config.model_copy(update={"learning_rate": 0.01, "steps": 4})
    with pytest.raises(CheckpointMismatchError, match="another config or other data"):
        train_separator(other, synthetic_splits(), queries, tmp_path)
    louder = [s.model_copy(update={"train": s.train * 2}) for s in synthetic_splits()]
    with pytest.raises(CheckpointMismatchError, match="delete checkpoint.pt"):
        train_separator(config.model_copy(update={"steps": 4}), louder, queries, tmp_path)


def test_fewer_steps_or_another_kind_of_model_on_a_trained_folder_is_refused_untouched(tmp_path):
    config = tiny_config(steps=4)
    queries = np.eye(3, 8, dtype=np.float32)
    train_separator(config, synthetic_splits(), queries, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(ClipflowsError, match="trained for 4 steps; --steps 1 is fewer"):
        train_separator(
            config.model_copy(update={"steps": 1}), synthetic_splits(), queries, tmp_path
        )
    plain = config.model.model_copy(update={"conditioned": False})
    with pytest.raises(ClipflowsError, match="holds a text-conditioned separator"):
        train_separator(
            config.model_copy(update={"model": plain}), synthetic_splits(), queries, tmp_path
        )
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    (tmp_path / "config.json").unlink()  # an interrupted run: only the checkpoint says how far
    with pytest.raises(ClipflowsError, match="trained for 4 steps"):
        train_separator(
            config.model_copy(update={"steps": 2}), synthetic_splits(), queries, tmp_path
        )
    assert not (tmp_path / "config.json").exists()


def test_noise_heads_train_are_assigned_by_permutation_and_leave_inference_alone(tmp_path):
    import torch

    target = (torch.rand(2, 2, 6, 5) > 0.5).float()
    weight = torch.ones_like(target)
    logits, noise = torch.randn(2, 2, 6, 5), torch.randn(2, 2, 6, 5)
    loss = noise_invariant_loss(logits, noise, target, weight, 0.1)
    swapped = noise_invariant_loss(logits, noise.flip(1), target, weight, 0.1)
    assert torch.allclose(loss, swapped)  # which head is "first" does not matter
    # a query mask equal to the target and silent noise heads cost (almost) nothing
    perfect = noise_invariant_loss(
        20 * (2 * target - 1), torch.full_like(noise, -20), target, weight, 0.1
    )
    assert float(perfect) < 1e-3 < float(loss)

    plain = SeparationTrainConfig(model=SeparatorConfig(depth=2, base_channels=4, feature_maps=4))
    nit = plain.model_copy(update={"model": plain.model.model_copy(update={"noise_heads": 2})})
    assert nit.key() != plain.key()
    config = nit.model_copy(update={"steps": 3, "batch_size": 2, "validation_mixtures": 2})
    result = train_separator(config, synthetic_splits(), np.eye(3, 8, dtype=np.float32), tmp_path)
    assert all(np.isfinite(result.losses))
    model, _ = load_separator(tmp_path)
    magnitude = torch.rand(1, 32, 16)
    assert model(magnitude, torch.eye(1, 8)).shape == (1, 32, 16)  # query mask only


def test_built_sources_are_cached_by_config(tmp_path):
    from clipflows.components.separation.sources import SourcesConfig, build_sources

    config = SourcesConfig(instruments=["flute"], animals=["dog"], melody_seconds=3.0)
    first = build_sources(config, 8000, tmp_path)
    assert len(list((tmp_path / "sound-sources").glob("*.npz"))) == 1
    again = build_sources(config, 8000, tmp_path)
    assert [s.name for s in again] == ["flute", "dog"]
    for built, cached in zip(first, again, strict=True):
        assert np.array_equal(built.train, cached.train) and np.array_equal(built.test, cached.test)
    build_sources(config.model_copy(update={"seed": 1}), 8000, tmp_path)
    assert len(list((tmp_path / "sound-sources").glob("*.npz"))) == 2
