"""The trimodal retrieval model: video, text and music projected into one space.

As in the paper (McKee et al., 2023): a query is a video, a text, or both, fused into one vector;
music is embedded on its own, so a library is embedded once and searched with any query. Inputs
are precomputed features (pooled CLIP frames, a sentence embedding, tagger features), each
standardised with statistics fitted on the training set and kept in the model.
"""

from __future__ import annotations

import torch
from pydantic import BaseModel, Field
from torch import nn


class TrimodalConfig(BaseModel):
    video_dim: int = Field(default=384, ge=1)
    text_dim: int = Field(default=384, ge=1)
    music_dim: int = Field(default=203, ge=1)
    dim: int = Field(default=64, ge=8)  # the shared space
    hidden: int = Field(default=256, ge=8)
    dropout: float = Field(default=0.1, ge=0, lt=1)


class Standardise(nn.Module):
    """(x - mean) / std with statistics fitted once on training features and saved as buffers."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, features: torch.Tensor) -> None:
        self.mean.copy_(features.mean(dim=0))
        self.std.copy_(features.std(dim=0).clamp_min(1e-4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def _projection(inputs: int, config: TrimodalConfig) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, config.hidden),
        nn.GELU(),
        nn.Dropout(config.dropout),
        nn.Linear(config.hidden, config.dim),
    )


class TrimodalModel(nn.Module):
    """``encode_query(video, text)`` (either may be None) and ``encode_music(music)``."""

    def __init__(self, config: TrimodalConfig):
        super().__init__()
        self.config = config
        self.scale = nn.ModuleDict(
            {
                "video": Standardise(config.video_dim),
                "text": Standardise(config.text_dim),
                "music": Standardise(config.music_dim),
            }
        )
        self.video = _projection(config.video_dim, config)
        self.text = _projection(config.text_dim, config)
        self.music = _projection(config.music_dim, config)
        # Fusion sees both projections (zero where absent) and which of them are present.
        self.fusion = nn.Sequential(
            nn.Linear(2 * config.dim + 2, config.hidden),
            nn.GELU(),
            nn.Linear(config.hidden, config.dim),
        )
        self.logit_scale = nn.Parameter(torch.tensor(2.66))  # log(1 / 0.07), as CLIP starts

    def fit_scales(self, video: torch.Tensor, text: torch.Tensor, music: torch.Tensor) -> None:
        for name, features in (("video", video), ("text", text), ("music", music)):
            self.scale[name].fit(features)

    def encode_music(self, music: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.music(self.scale["music"](music)), dim=-1)

    def encode_query(
        self,
        video: torch.Tensor | None,
        text: torch.Tensor | None,
        video_mask: torch.Tensor | None = None,
        text_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Fused query vectors; a row's mask of 0 means that modality is absent for it."""
        if video is None and text is None:
            raise ValueError("A query needs a video, a text, or both.")
        rows = (video if video is not None else text).shape[0]
        zeros = torch.zeros(rows, self.config.dim, device=self.logit_scale.device)
        v = self.video(self.scale["video"](video)) if video is not None else zeros
        t = self.text(self.scale["text"](text)) if text is not None else zeros
        vm = _mask(video_mask, video is not None, rows, v)
        tm = _mask(text_mask, text is not None, rows, t)
        fused = self.fusion(torch.cat([v * vm, t * tm, vm, tm], dim=-1))
        # The residual keeps each single-modality query close to its own projection.
        return nn.functional.normalize(fused + v * vm + t * tm, dim=-1)


def _mask(mask: torch.Tensor | None, present: bool, rows: int, like: torch.Tensor) -> torch.Tensor:
    if not present:
        return torch.zeros(rows, 1, dtype=like.dtype, device=like.device)
    if mask is None:
        return torch.ones(rows, 1, dtype=like.dtype, device=like.device)
    return mask.reshape(rows, 1).to(like.dtype)


def contrastive_loss(
    queries: torch.Tensor, music: torch.Tensor, logit_scale: torch.Tensor, groups: torch.Tensor
) -> torch.Tensor:
    """Symmetric InfoNCE; rows of the same clip (``groups``) are not each other's negatives."""
    logits = logit_scale.exp().clamp(max=100) * queries @ music.T
    same = groups[:, None] == groups[None, :]
    eye = torch.eye(len(groups), dtype=torch.bool, device=logits.device)
    logits = logits.masked_fill(same & ~eye, float("-inf"))
    targets = torch.arange(len(groups), device=logits.device)
    return (
        nn.functional.cross_entropy(logits, targets)
        + nn.functional.cross_entropy(logits.T, targets)
    ) / 2
