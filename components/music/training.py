"""Contrastive training of the trimodal model, with text dropout, checkpoints and exact resume.

Every step draws its batch and its dropout masks from the run's own generator, seeded by (seed,
step), so a run resumed from a checkpoint takes exactly the steps an uninterrupted run would have
taken, and training (run in a flow's thread pool) never draws from torch's process-wide
generator that every other thread shares.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel, Field
from torch import nn

from clipflows.components.cache import sha256_bytes
from clipflows.components.checkpoints import load_checkpoint, run_key, save_checkpoint
from clipflows.components.files import torch_save_whole, write_text_whole
from clipflows.components.music.trimodal import TrimodalConfig, TrimodalModel, contrastive_loss

CHECKPOINT = "checkpoint.pt"
MODEL = "trimodal.pt"


@dataclass
class PairedFeatures:
    """One row per training video: its features, its clip's text and music, and the clip id."""

    video: np.ndarray
    text: np.ndarray
    music: np.ndarray
    clip: np.ndarray  # rows with the same id are renderings of the same music clip

    def __post_init__(self) -> None:
        rows = {len(self.video), len(self.text), len(self.music), len(self.clip)}
        if len(rows) != 1:
            raise ValueError(f"Feature arrays disagree on the number of rows: {sorted(rows)}.")
        if len(self.video) < 2:
            raise ValueError("Contrastive training needs at least two training pairs.")

    def fingerprint(self) -> str:
        """A hash of the training data, so a checkpoint is never resumed on other data."""
        arrays = (self.video, self.text, self.music, self.clip)
        return sha256_bytes(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays))


class RetrievalTrainConfig(BaseModel):
    model: TrimodalConfig = Field(default_factory=TrimodalConfig)
    steps: int = Field(default=400, ge=1)
    batch_size: int = Field(default=64, ge=2)
    learning_rate: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    # The share of training queries without their text, so a video alone is a good query too.
    text_dropout: float = Field(default=0.5, ge=0, le=1)
    # The share of the queries that keep their text which lose their video (text-only queries).
    video_dropout: float = Field(default=0.2, ge=0, lt=1)
    checkpoint_every: int = Field(default=100, ge=1)
    seed: int = 0


class RetrievalTrainResult(BaseModel):
    steps: int
    resumed_from: int
    steps_run: int  # steps taken by this call (0 when a finished run was found)
    seconds: float
    losses: list[float]


def _tensors(features: PairedFeatures) -> dict[str, torch.Tensor]:
    return {
        "video": torch.from_numpy(np.asarray(features.video, np.float32)),
        "text": torch.from_numpy(np.asarray(features.text, np.float32)),
        "music": torch.from_numpy(np.asarray(features.music, np.float32)),
        "clip": torch.from_numpy(np.asarray(features.clip, np.int64)),
    }


def new_model(config: RetrievalTrainConfig, features: PairedFeatures) -> TrimodalModel:
    """A model with seeded initial weights and input statistics fitted on ``features``; torch's
    global random state is as it was afterwards (the seed is set only for the construction)."""
    model_config = config.model.model_copy(
        update={
            "video_dim": features.video.shape[1],
            "text_dim": features.text.shape[1],
            "music_dim": features.music.shape[1],
        }
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = TrimodalModel(model_config)
    data = _tensors(features)
    model.fit_scales(data["video"], data["text"], data["music"])
    return model


def training_step_loss(
    model: TrimodalModel,
    data: dict[str, torch.Tensor],
    config: RetrievalTrainConfig,
    generator: torch.Generator,
) -> torch.Tensor:
    """The loss of one batch: queries with text dropped (or video dropped) at random."""
    rows = len(data["clip"])
    batch = torch.randperm(rows, generator=generator)[: config.batch_size]
    keep_text = (torch.rand(len(batch), generator=generator) >= config.text_dropout).float()
    drop_video = torch.rand(len(batch), generator=generator) < config.video_dropout
    keep_video = 1.0 - (drop_video.float() * keep_text)  # never both gone
    queries = model.encode_query(data["video"][batch], data["text"][batch], keep_video, keep_text)
    music = model.encode_music(data["music"][batch])
    return contrastive_loss(queries, music, model.logit_scale, data["clip"][batch])


def train_retrieval(
    features: PairedFeatures,
    config: RetrievalTrainConfig,
    output: Path,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[TrimodalModel, RetrievalTrainResult]:
    """Train (or resume from ``output``'s checkpoint) and write the model there."""
    output.mkdir(parents=True, exist_ok=True)
    model = new_model(config, features)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.steps)
    checkpoint = output / CHECKPOINT
    key = run_key(config.model_dump(), features.fingerprint())
    state = load_checkpoint(checkpoint, key, model, optimiser, schedule)
    start, losses = (state["step"], state["losses"]) if state else (0, [])
    data = _tensors(features)
    began = time.perf_counter()
    generator = torch.Generator()
    model.train()
    with dropout_from(model, generator):
        for step in range(start, config.steps):
            generator.manual_seed(config.seed * 1_000_003 + step)
            loss = training_step_loss(model, data, config, generator)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            losses.append(loss.item())
            if progress:
                progress(step + 1, config.steps, losses[-1])
            if (step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps:
                save_checkpoint(
                    checkpoint, key, step + 1, model, optimiser, schedule, losses=losses
                )
    model.eval()
    save_model(model, output)
    result = RetrievalTrainResult(
        steps=config.steps,
        resumed_from=start,
        steps_run=config.steps - start,
        seconds=time.perf_counter() - began,
        losses=losses,
    )
    return model, result


class GeneratorDropout(nn.Module):
    """``nn.Dropout`` whose masks come from a given generator, not torch's process-wide one."""

    def __init__(self, p: float, generator: torch.Generator):
        super().__init__()
        self.p, self.generator = p, generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape, generator=self.generator) >= self.p
        return x * keep.to(x.device) / (1 - self.p)


@contextmanager
def dropout_from(model: nn.Module, generator: torch.Generator) -> Iterator[None]:
    """Inside the block every ``nn.Dropout`` of ``model`` draws its masks from ``generator``;
    the model's own modules are back in place afterwards."""
    swapped = [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if isinstance(child, nn.Dropout)
    ]
    for parent, name, child in swapped:
        setattr(parent, name, GeneratorDropout(child.p, generator).train(child.training))
    try:
        yield
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


def save_model(model: TrimodalModel, folder: Path) -> Path:
    """``trimodal.pt`` and ``trimodal.json`` (its config), each written whole or not at all."""
    torch_save_whole(model.state_dict(), folder / MODEL)
    write_text_whole(json.dumps(model.config.model_dump(), indent=1), folder / "trimodal.json")
    return folder / MODEL


def load_model(folder: Path) -> TrimodalModel:
    """A trained model from the folder ``train_retrieval`` wrote, in eval mode."""
    if not (folder / MODEL).is_file():
        raise FileNotFoundError(
            f"No trained music retrieval model in {folder}: run `clipflows music-train` first."
        )
    config = TrimodalConfig.model_validate_json((folder / "trimodal.json").read_text())
    model = TrimodalModel(config)
    model.load_state_dict(torch.load(folder / MODEL, weights_only=True))
    model.eval()
    return model
