import pytest
import torch
from safetensors.torch import load_file

from clipflows.components.checkpoints import CheckpointMismatchError
from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.clip.training import ClipTrainConfig, train_clip
from clipflows.components.world.scenes import WorldConfig, write_dataset

MICRO = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 8, "head_width": 32},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1},
}


class Interrupt(Exception):
    pass


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_dataset(WorldConfig(image_size=32, seed=7), 48, tmp_path_factory.mktemp("data"))


def _config(**overrides) -> ClipTrainConfig:
    fields = dict(
        architecture=MICRO, steps=6, batch_size=8, checkpoint_every=3, warmup_steps=2, workers=0
    )
    return ClipTrainConfig(**{**fields, **overrides})


def test_interrupted_training_resumes_to_the_same_weights(data, tmp_path):
    straight = train_clip(data, tmp_path / "straight", _config())
    assert straight.resumed_from == 0 and straight.steps == 6

    def stop_at_step_5(step, total, loss):
        if step == 5:
            raise Interrupt

    with pytest.raises(Interrupt):
        train_clip(data, tmp_path / "resumed", _config(), progress=stop_at_step_5)
    assert not (tmp_path / "resumed" / "open_clip_model.safetensors").exists()
    resumed = train_clip(data, tmp_path / "resumed", _config())
    assert resumed.resumed_from == 3
    a = load_file(tmp_path / "straight" / "open_clip_model.safetensors")
    b = load_file(tmp_path / "resumed" / "open_clip_model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert not list((tmp_path / "resumed").glob("*.partial*"))


def test_a_checkpoint_of_another_run_is_not_silently_resumed(data, tmp_path):
    train_clip(data, tmp_path / "run", _config(steps=3))
    with pytest.raises(CheckpointMismatchError, match="another config or other data"):
        train_clip(data, tmp_path / "run", _config(steps=3, learning_rate=0.5))


def test_loss_falls_and_the_output_loads_as_a_clip_spec(data, tmp_path, settings):
    result = train_clip(data, tmp_path / "model", _config(steps=30, checkpoint_every=30))
    losses = [
        float(line.split('"loss": ')[1].rstrip("}"))
        for line in (tmp_path / "model" / "train_log.jsonl").read_text().splitlines()
    ]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
    assert result.final_loss == losses[-1]
    encoder = ClipEncoder(f"local-dir:{tmp_path / 'model'}", settings=settings)
    assert encoder.encode_texts(["a red circle"]).shape == (1, 32)


def test_fine_tuning_starts_from_a_spec(data, tmp_path, settings):
    train_clip(data, tmp_path / "base", _config(steps=3))
    tuned = train_clip(
        data,
        tmp_path / "tuned",
        _config(architecture=None, init=f"local-dir:{tmp_path / 'base'}", steps=3),
    )
    assert tuned.steps == 3
    base = load_file(tmp_path / "base" / "open_clip_model.safetensors")
    after = load_file(tmp_path / "tuned" / "open_clip_model.safetensors")
    assert any(not torch.equal(base[k], after[k]) for k in base)


def test_config_needs_exactly_one_starting_point():
    with pytest.raises(ValueError, match="exactly one"):
        ClipTrainConfig()
    with pytest.raises(ValueError, match="exactly one"):
        ClipTrainConfig(architecture=MICRO, init="world")
