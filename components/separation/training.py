"""Training the separator by mix-and-separate (CLIPSep's objective), resumable from checkpoints."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel, Field

from clipflows.components.audio import AudioConfig, Spectrogram
from clipflows.components.cache import sha256_bytes, stable_hash
from clipflows.components.checkpoints import load_checkpoint, run_key, save_checkpoint
from clipflows.components.errors import ClipflowsError
from clipflows.components.files import torch_save_whole, write_text_whole
from clipflows.components.separation.mixtures import Mixture, sample_mixture
from clipflows.components.separation.model import QuerySeparator, SeparatorConfig
from clipflows.components.separation.sources import SourcesConfig, SourceSplit

CHECKPOINT = "checkpoint.pt"
MODEL = "separator.pt"


class SeparationTrainConfig(BaseModel):
    audio: AudioConfig = Field(default_factory=AudioConfig)
    model: SeparatorConfig = Field(default_factory=SeparatorConfig)
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    query_encoder: str = "sentence"
    steps: int = Field(default=600, ge=1)
    batch_size: int = Field(default=8, ge=2)
    learning_rate: float = 1e-3
    warmup_steps: int = 50
    grad_clip: float = 5.0
    checkpoint_every: int = 200
    validation_fraction: float = Field(default=0.15, ge=0, lt=0.5)  # of each class's training audio
    validation_mixtures: int = Field(default=16, ge=1)
    seed: int = 0
    noise_regulariser: float = Field(default=0.1, ge=0)  # NIT: weight of the mean noise mask

    def key(self) -> str:
        dump = self.model_dump()
        if not self.model.noise_heads:  # models trained before NIT existed keep their cache key
            del dump["model"]["noise_heads"], dump["noise_regulariser"]
        return stable_hash(dump)[:16]


class SeparationTrainResult(BaseModel):
    steps: int
    resumed_from: int
    steps_run: int  # optimiser steps taken by this call (0 when the model was already trained)
    seconds: float
    losses: list[float]
    validation: list[tuple[int, float]]  # (step, loss on the fixed validation mixtures)


def batch_tensors(
    mixtures: list[Mixture], spectrogram: Spectrogram
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mixture log-frequency magnitudes, and per source the binary target and the loss weight."""
    sources = torch.from_numpy(np.stack([m.sources for m in mixtures]))  # [B, 2, samples]
    source_mag = spectrogram.to_log(spectrogram.stft(sources).abs())  # [B, 2, L, T]
    mix_mag = spectrogram.to_log(spectrogram.stft(sources.sum(dim=1)).abs())  # [B, L, T]
    target = (source_mag > 0.5 * mix_mag.unsqueeze(1)).float()
    weight = torch.clamp(torch.log1p(mix_mag), 1e-3, 10).unsqueeze(1).expand_as(target)
    return mix_mag, target, weight


def mix_and_separate_loss(
    model: QuerySeparator,
    mixtures: list[Mixture],
    queries: torch.Tensor,
    spectrogram: Spectrogram,
    noise_regulariser: float = 0.1,
) -> torch.Tensor:
    """Weighted BCE of each source's mask, predicted from the mixture and that source's query
    (with noise heads: query mask plus the best-assigned noise mask, plus a small penalty)."""
    mix_mag, target, weight = batch_tensors(mixtures, spectrogram)
    classes = torch.tensor([m.classes for m in mixtures])  # [B, 2]
    features = model.features(mix_mag)
    logits = torch.stack(
        [model.fuse(features, queries[classes[:, s]]) for s in range(2)], dim=1
    )  # [B, 2, L, T]
    if not model.config.noise_heads:
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, target, weight=weight)
    return noise_invariant_loss(
        logits, model.noise_logits(features), target, weight, noise_regulariser
    )


def noise_invariant_loss(
    logits: torch.Tensor,
    noise: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor,
    regulariser: float,
) -> torch.Tensor:
    """CLIPSep-NIT: each source's mask is its query mask plus one noise head's mask (capped at
    1); noise heads are assigned to sources by the permutation with the lowest loss per mixture."""
    query_masks, noise_masks = torch.sigmoid(logits), torch.sigmoid(noise)  # [B,2,F,T], [B,N,F,T]
    heads = noise_masks.shape[1]
    per_assignment = []
    for assignment in itertools.permutations(range(heads), 2) if heads > 1 else [(0, 0)]:
        masks = (query_masks + noise_masks[:, list(assignment)]).clamp(1e-6, 1 - 1e-6)
        bce = torch.nn.functional.binary_cross_entropy(
            masks, target, weight=weight, reduction="none"
        )
        per_assignment.append(bce.mean(dim=(1, 2, 3)))
    best = torch.stack(per_assignment, dim=1).min(dim=1).values  # [B]
    return best.mean() + regulariser * noise_masks.mean()


def training_data_fingerprint(splits: list[SourceSplit], queries: np.ndarray) -> str:
    """A hash of every class's audio and its query vector: a checkpoint resumes only on these."""
    parts = [s.name.encode() + s.train.tobytes() + s.test.tobytes() for s in splits]
    return sha256_bytes(b"".join(parts) + np.ascontiguousarray(queries, np.float32).tobytes())


def split_validation(splits: list[SourceSplit], fraction: float) -> tuple[list, list]:
    """(training, validation) splits: the last ``fraction`` of each class's training audio is
    kept for validation, so validation never sees a training sample (nor the test audio)."""
    train, validation = [], []
    for split in splits:
        cut = int(len(split.train) * (1 - fraction))
        train.append(split.model_copy(update={"train": split.train[:cut]}))
        validation.append(split.model_copy(update={"train": split.train[cut:]}))
    return train, validation


@torch.no_grad()
def validation_loss(model, mixtures, queries, spectrogram) -> float:
    model.eval()
    loss = float(mix_and_separate_loss(model, mixtures, queries, spectrogram, 0.0))
    model.train()
    return loss


def train_separator(
    config: SeparationTrainConfig,
    splits: list[SourceSplit],
    queries: np.ndarray,
    output: Path,
    progress: Callable[[int, int, float], None] | None = None,
) -> SeparationTrainResult:
    """Train (or resume) and write ``separator.pt`` with its config; checkpoints on the way."""
    check_resumable(output, config)
    output.mkdir(parents=True, exist_ok=True)
    with torch.random.fork_rng(devices=[]):  # seeded weights; torch's global state unchanged
        torch.manual_seed(config.seed)
        model = QuerySeparator(config.model.model_copy(update={"query_dim": queries.shape[1]}))
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / config.warmup_steps)
    )
    rng = np.random.default_rng(config.seed)
    checkpoint = output / CHECKPOINT
    # More steps continue a run (the schedule is warm-up only), so steps are not part of its key.
    identity = config.model_dump(exclude={"steps", "checkpoint_every"})
    key = run_key(identity, training_data_fingerprint(splits, queries))
    state = load_checkpoint(checkpoint, key, model, optimiser, schedule)
    start, losses, validation = 0, [], []
    if state and state["step"] > config.steps:
        raise _fewer_steps(output, state["step"], config.steps)
    if state:
        start, losses, validation = state["step"], state["losses"], state["validation"]
        rng.bit_generator.state = state["rng"]  # the batch sampler continues where it stopped
    spectrogram = Spectrogram(config.audio)
    query_tensor = torch.from_numpy(queries)
    splits, held = split_validation(splits, config.validation_fraction)
    if config.validation_fraction:
        val_rng = np.random.default_rng(config.seed + 99991)
        length = config.audio.clip_samples
        val_mixtures = [
            sample_mixture(held, length, val_rng) for _ in range(config.validation_mixtures)
        ]
    began, steps_run = time.perf_counter(), 0
    model.train()
    for step in range(start, config.steps):
        batch = [
            sample_mixture(splits, config.audio.clip_samples, rng) for _ in range(config.batch_size)
        ]
        loss = mix_and_separate_loss(
            model, batch, query_tensor, spectrogram, config.noise_regulariser
        )
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
        steps_run += 1
        if progress:
            progress(step + 1, config.steps, losses[-1])
        if (step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps:
            if config.validation_fraction:
                validation.append(
                    (step + 1, validation_loss(model, val_mixtures, query_tensor, spectrogram))
                )
            save_checkpoint(
                checkpoint,
                key,
                step + 1,
                model,
                optimiser,
                schedule,
                losses=losses,
                validation=validation,
                rng=rng.bit_generator.state,
            )
    save_separator(model, config, queries, output)
    return SeparationTrainResult(
        steps=config.steps,
        resumed_from=start,
        steps_run=steps_run,
        seconds=time.perf_counter() - began,
        losses=losses,
        validation=validation,
    )


def check_resumable(output: Path, config: SeparationTrainConfig) -> None:
    """Refuse, before any training, to continue a folder's model as another kind of model or
    to fewer steps than it already has (either would leave a config.json that lies)."""
    try:
        trained = SeparationTrainConfig.model_validate(
            json.loads((output / "config.json").read_text())["train"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return  # no finished model here (or not one of ours): the checkpoint guard decides
    if trained.model.conditioned != config.model.conditioned:
        kinds = {True: "text-conditioned separator", False: "unconditioned (no-query) separator"}
        raise ClipflowsError(
            f"{output} holds a {kinds[trained.model.conditioned]}; this run would train a "
            f"{kinds[config.model.conditioned]}. Choose another output folder"
            + (
                " or drop --unconditioned."
                if trained.model.conditioned
                else " or add --unconditioned."
            )
        )
    if trained.steps > config.steps:
        raise _fewer_steps(output, trained.steps, config.steps)


def _fewer_steps(output: Path, trained: int, asked: int) -> ClipflowsError:
    return ClipflowsError(
        f"{output} holds a separator trained for {trained} steps; --steps {asked} is fewer, "
        f"so nothing would be trained. Give --steps {trained} or more to continue it, or "
        "choose another output folder."
    )


def save_separator(
    model: QuerySeparator, config: SeparationTrainConfig, queries: np.ndarray, output: Path
) -> None:
    """Config first, weights last, each written whole: a folder with ``separator.pt`` is done."""
    meta = {"train": config.model_dump(), "query_dim": int(queries.shape[1])}
    write_text_whole(json.dumps(meta, indent=1), output / "config.json")
    torch_save_whole(model.state_dict(), output / MODEL)


def load_separator(folder: Path) -> tuple[QuerySeparator, SeparationTrainConfig]:
    """A trained separator and its training config, from the folder ``train_separator`` wrote."""
    meta = json.loads((folder / "config.json").read_text())
    config = SeparationTrainConfig.model_validate(meta["train"])
    model = QuerySeparator(config.model.model_copy(update={"query_dim": meta["query_dim"]}))
    model.load_state_dict(torch.load(folder / MODEL, weights_only=True))
    model.eval()
    return model, config
