import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from clipflows.components.checkpoints import CheckpointMismatchError
from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.clip.training import ClipTrainConfig, TrainResult, train_clip
from clipflows.components.settings import Settings
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


def _interrupted_copy(data, tmp_path) -> tuple[Path, Path]:
    """A copy of the data and a run on it stopped after its first checkpoint (step 3 of 6)."""
    copy = Path(shutil.copytree(data, tmp_path / "data"))

    def stop_at_step_5(step, total, loss):
        if step == 5:
            raise Interrupt

    with pytest.raises(Interrupt):
        train_clip(copy, tmp_path / "run", _config(), progress=stop_at_step_5)
    assert (tmp_path / "run" / "checkpoint.pt").is_file()
    return copy, tmp_path / "run"


def test_a_resume_after_a_caption_was_edited_is_refused(data, tmp_path):
    copy, run = _interrupted_copy(data, tmp_path)
    captions = copy / "captions.jsonl"
    rows = [json.loads(line) for line in captions.read_text().splitlines() if line]
    rows[-1]["caption"] = "a photo of something else entirely"  # same paths, same count
    captions.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(CheckpointMismatchError, match="other data"):
        train_clip(copy, run, _config())


def test_a_resume_after_an_image_was_replaced_is_refused(data, tmp_path):
    copy, run = _interrupted_copy(data, tmp_path)
    captions = copy / "captions.jsonl"
    last = json.loads(captions.read_text().splitlines()[-1])["image"]
    image = copy / last
    stat = image.stat()
    image.write_bytes(image.read_bytes() + b"\0")  # another file under the same name
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(CheckpointMismatchError, match="other data"):
        train_clip(copy, run, _config())


def test_a_resume_on_the_same_data_continues(data, tmp_path):
    copy, run = _interrupted_copy(data, tmp_path)
    assert train_clip(copy, run, _config()).resumed_from == 3


def test_the_flow_trains_on_the_settings_device_unless_told(tmp_path, monkeypatch, prefect_harness):
    import clipflows.flows.train_clip as module

    devices = []

    def fake_train_clip(data, output, config, *, device, progress=None):
        devices.append(device)
        return TrainResult(
            output_dir=Path(output), steps=1, resumed_from=0, final_loss=0.0, seconds=0.0
        )

    monkeypatch.setattr(module, "train_clip", fake_train_clip)
    monkeypatch.setenv("CLIPFLOWS_DEVICE", "meta")  # what a deployment's worker is set to
    out = str(tmp_path / "out")
    module.train_clip_flow("data", out, _config())
    module.train_clip_flow("data", out, _config(), settings=Settings(device="cpu"))
    module.train_clip_flow("data", out, _config(), device="cpu", settings=Settings(device="meta"))
    assert devices == [torch.device("meta"), torch.device("cpu"), torch.device("cpu")]
