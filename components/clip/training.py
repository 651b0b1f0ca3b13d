"""Contrastive training of any open_clip model on an image-caption folder, with resume.

The loop is deterministic given its config: batches come from a seeded permutation per epoch,
so a run resumed from its last checkpoint sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from pydantic import BaseModel
from torch.utils.data import DataLoader

from clipflows.components.checkpoints import load_checkpoint, run_key, save_checkpoint
from clipflows.components.clip.data import ImageCaptionDataset, collate_skipping_none, read_pairs
from clipflows.components.clip.loading import load_clip, write_local_dir
from clipflows.components.clip.text_towers import (
    hf_tokenizer,
    is_hf_tower,
    locked_tower_outputs,
    resolved_text_cfg,
)
from clipflows.components.clip.train_config import ClipTrainConfig

Progress = Callable[[int, int, float], None]


class TrainResult(BaseModel):
    output_dir: Path
    steps: int
    resumed_from: int
    final_loss: float
    seconds: float


def _new_model(architecture: dict, device: torch.device):
    """A seeded new model: open_clip's CLIP, or CustomTextCLIP over a Hugging Face text tower
    (a packaged tower is named by its marker, see ``text_towers``)."""
    import open_clip

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        if is_hf_tower(architecture["text_cfg"]):
            text_cfg = resolved_text_cfg(architecture["text_cfg"])
            model = open_clip.CustomTextCLIP(**{**architecture, "text_cfg": text_cfg})
        else:
            model = open_clip.CLIP(**architecture)
        model = model.to(device)
    image_size = architecture["vision_cfg"]["image_size"]
    preprocess_cfg = {
        "size": image_size,
        "mean": open_clip.OPENAI_DATASET_MEAN,
        "std": open_clip.OPENAI_DATASET_STD,
    }
    return model, dict(architecture), preprocess_cfg


def _transforms(preprocess_cfg: dict, augment: bool):
    import open_clip

    return open_clip.image_transform(
        preprocess_cfg["size"],
        is_train=augment,
        mean=preprocess_cfg.get("mean"),
        std=preprocess_cfg.get("std"),
    )


def _schedule(config: ClipTrainConfig) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _new_tokenizer(text_cfg: dict):
    import open_clip

    if is_hf_tower(text_cfg):
        return hf_tokenizer(resolved_text_cfg(text_cfg))
    return open_clip.tokenizer.SimpleTokenizer(context_length=text_cfg.get("context_length", 77))


def _forward(model, images, texts, indices, locked):
    """(image features, text features, logit scale) of one batch; with a locked tower, the text
    side is the projection of its precomputed outputs (the same numbers, computed once)."""
    if locked is None:
        return model(images, texts)[:3]
    outputs, rows = locked
    image_features = model.encode_image(images, normalize=True)
    text_features = torch.nn.functional.normalize(model.text.proj(outputs[rows[indices]]), dim=-1)
    return image_features, text_features, model.logit_scale.exp()


def _batches(n: int, config: ClipTrainConfig, start_step: int) -> list[list[int]]:
    """Index batches for steps [start_step, steps): a seeded permutation per epoch."""
    per_epoch = max(1, n // config.batch_size)
    batches = []
    for step in range(start_step, config.steps):
        epoch, offset = divmod(step, per_epoch)
        order = torch.randperm(
            n, generator=torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        )
        batches.append(
            order[offset * config.batch_size : (offset + 1) * config.batch_size].tolist()
        )
    return batches


def data_fingerprint(pairs: list[tuple[Path, str]]) -> str:
    """A hash of every pair's path, caption and image file (size and mtime): edited captions or
    images make another run, so a checkpoint is never resumed on changed data."""
    digest = hashlib.sha256()
    for path, caption in pairs:
        try:
            stat = path.stat()
            image = (stat.st_size, stat.st_mtime_ns)
        except OSError:  # unreadable images are skipped in training; their absence is data too
            image = (-1, -1)
        digest.update(json.dumps([str(path), caption, *image]).encode() + b"\n")
    return digest.hexdigest()


def train_clip(
    data_folder: str | Path,
    output_dir: str | Path,
    config: ClipTrainConfig,
    *,
    device: str | torch.device = "cpu",
    progress: Progress | None = None,
) -> TrainResult:
    """Train with open_clip's ClipLoss; resume from ``output_dir/checkpoint.pt`` if present (a
    checkpoint of another config or of changed data is refused: CheckpointMismatchError).

    Writes ``open_clip_config.json`` and ``open_clip_model.safetensors`` (an open_clip local-dir
    that ``ClipEncoder('local-dir:...')`` loads) and ``train_log.jsonl`` with the loss per step.
    """
    import open_clip

    started = time.perf_counter()
    device = torch.device(device)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    pairs = read_pairs(data_folder)
    if len(pairs) < config.batch_size:
        raise ValueError(
            f"{data_folder} has {len(pairs)} pairs, fewer than one batch of {config.batch_size}."
        )

    if config.architecture is not None:
        model, model_cfg, preprocess_cfg = _new_model(config.architecture, device)
        tokenizer = _new_tokenizer(model_cfg["text_cfg"])
    else:
        loaded = load_clip(config.init, device)
        model, model_cfg, preprocess_cfg = loaded.model, loaded.model_cfg, loaded.preprocess_cfg
        preprocess_cfg.setdefault("size", model_cfg["vision_cfg"]["image_size"])
        tokenizer = loaded.tokenizer
    dataset = ImageCaptionDataset(pairs, _transforms(preprocess_cfg, config.augment), tokenizer)
    locked = None  # a locked tower's outputs, one row per caption, and each pair's row
    if config.lock_text:
        if not is_hf_tower(model_cfg["text_cfg"]):
            raise ValueError("lock_text needs a Hugging Face text tower (text_cfg.hf_model_name).")
        model.lock_text_tower(unlocked_layers=0, freeze_layer_norm=True)
        outputs, rows = locked_tower_outputs(model, tokenizer, [c for _, c in pairs])
        locked = (outputs.to(device), torch.tensor(rows, device=device))

    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(config))
    loss_fn = open_clip.ClipLoss()
    key = run_key(config.model_dump(), data_fingerprint(pairs))
    checkpoint_path = out / "checkpoint.pt"
    state = load_checkpoint(checkpoint_path, key, model, optimizer, scheduler, device)
    start_step = state["step"] if state else 0
    resumed_from = start_step

    loader = DataLoader(
        dataset,
        batch_sampler=_batches(len(dataset), config, start_step),
        collate_fn=collate_skipping_none,
        num_workers=config.workers,
        persistent_workers=False,
    )
    model.train()
    loss_value = float("nan")
    with (out / "train_log.jsonl").open("a") as log:
        for step, (images, texts, indices) in enumerate(loader, start=start_step):
            with torch.autocast(
                device.type, dtype=torch.bfloat16, enabled=config.precision == "bf16"
            ):
                image_features, text_features, logit_scale = _forward(
                    model, images.to(device), texts.to(device), indices.to(device), locked
                )
            loss = loss_fn(image_features.float(), text_features.float(), logit_scale)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, math.log(100))
            loss_value = loss.item()
            log.write(json.dumps({"step": step + 1, "loss": loss_value}) + "\n")
            if progress:
                progress(step + 1, config.steps, loss_value)
            if (step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps:
                log.flush()
                save_checkpoint(checkpoint_path, key, step + 1, model, optimizer, scheduler)
    model.eval()
    write_local_dir(out, model, model_cfg, preprocess_cfg, tokenizer)
    return TrainResult(
        output_dir=out,
        steps=config.steps,
        resumed_from=resumed_from,
        final_loss=loss_value,
        seconds=time.perf_counter() - started,
    )
