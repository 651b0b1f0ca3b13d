"""The query-conditioned separation network (CLIPSep's late fusion), sized by a config.

A U-Net maps the mixture's log-frequency log-magnitude to K feature maps; the query embedding,
through a linear layer and a sigmoid, weights them; their weighted sum plus a bias is the mask's
logit. The unconditioned variant learns one fixed weighting instead: same size, no query.
Optional noise heads (CLIPSep-NIT) are query-free weightings of the same feature maps, used only
in training to soak up what the query does not explain; inference ignores them.
"""

from __future__ import annotations

import torch
from pydantic import BaseModel, Field
from torch import nn


class SeparatorConfig(BaseModel):
    depth: int = Field(default=4, ge=1, le=7)  # downsamplings (the paper's model has 7)
    base_channels: int = Field(default=8, ge=4)  # the paper's has 64
    feature_maps: int = Field(default=16, ge=1)  # K (the paper's has 32)
    query_dim: int = 384
    conditioned: bool = True
    noise_heads: int = Field(default=0, ge=0, le=4)  # NIT heads (the paper uses one per source)


def _block(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, 3, padding=1),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
        nn.Conv2d(outputs, outputs, 3, padding=1),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self, config: SeparatorConfig):
        super().__init__()
        widths = [config.base_channels * 2**i for i in range(config.depth + 1)]
        self.down = nn.ModuleList([_block(1, widths[0])])
        self.down.extend(_block(widths[i], widths[i + 1]) for i in range(config.depth))
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
            for i in reversed(range(config.depth))
        )
        self.merge = nn.ModuleList(
            _block(widths[i] * 2, widths[i]) for i in reversed(range(config.depth))
        )
        self.head = nn.Conv2d(widths[0], config.feature_maps, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for index, block in enumerate(self.down):
            x = block(x if index == 0 else nn.functional.max_pool2d(x, 2))
            skips.append(x)
        for up, merge, skip in zip(self.up, self.merge, reversed(skips[:-1]), strict=True):
            x = merge(torch.cat([up(x), skip], dim=1))
        return self.head(x)


class QuerySeparator(nn.Module):
    """Mask logits for the source a query describes: [B, F, T] from [B, F, T] and [B, Q]."""

    def __init__(self, config: SeparatorConfig):
        super().__init__()
        self.config = config
        self.unet = UNet(config)
        if config.conditioned:
            self.query = nn.Linear(config.query_dim, config.feature_maps)
        else:
            self.fixed = nn.Parameter(torch.zeros(config.feature_maps))
        self.bias = nn.Parameter(torch.zeros(1))
        if config.noise_heads:
            # small random init so the heads start apart (a permutation needs them to differ)
            self.noise = nn.Parameter(0.1 * torch.randn(config.noise_heads, config.feature_maps))
            self.noise_bias = nn.Parameter(torch.full((config.noise_heads,), -2.0))

    def features(self, log_magnitude: torch.Tensor) -> torch.Tensor:
        """The U-Net's K feature maps [B, K, F, T], computed once per mixture."""
        return self.unet(torch.log1p(log_magnitude).unsqueeze(1))

    def noise_logits(self, features: torch.Tensor) -> torch.Tensor:
        """Mask logits of the NIT noise heads: [B, N, F, T] (training only)."""
        weights = torch.sigmoid(self.noise)
        return torch.einsum("nk,bkft->bnft", weights, features) + self.noise_bias[:, None, None]

    def forward(self, log_magnitude: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        return self.fuse(self.features(log_magnitude), query)

    def fuse(self, features: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """Late fusion: the query-weighted sum of the feature maps plus a bias (mask logits)."""
        if self.config.conditioned:
            weights = torch.sigmoid(self.query(query))
        else:
            weights = torch.sigmoid(self.fixed).expand(len(features), -1)
        return torch.einsum("bk,bkft->bft", weights, features) + self.bias
