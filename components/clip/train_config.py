"""What a CLIP training run is asked to do, as data: importing it loads no torch, so a recipe
(the world CLIP's) can be hashed and its cache folder named without the training code."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator


class ClipTrainConfig(BaseModel):
    """A training run: a new architecture (``architecture``) or a spec to fine-tune (``init``)."""

    architecture: dict | None = Field(
        default=None, description="open_clip model_cfg for a new model."
    )
    init: str | None = Field(default=None, description="CLIP spec to fine-tune, e.g. a local-dir.")
    steps: int = Field(default=600, ge=1)
    batch_size: int = Field(default=128, ge=2)
    learning_rate: float = 1e-3
    weight_decay: float = 0.1
    warmup_steps: int = Field(default=50, ge=0)
    checkpoint_every: int = Field(default=100, ge=1)
    augment: bool = False
    lock_text: bool = Field(
        default=False,
        description="Freeze a Hugging Face text tower (its projection still trains); its "
        "outputs are then computed once per caption instead of every step.",
    )
    precision: Literal["fp32", "bf16"] = Field(
        default="fp32", description="bf16 autocast: about 1.6x faster on CPUs with AVX-512 BF16."
    )
    workers: int = Field(default=1, ge=0)
    seed: int = 0

    @model_validator(mode="after")
    def _one_start(self) -> ClipTrainConfig:
        if (self.architecture is None) == (self.init is None):
            raise ValueError(
                "Give exactly one of `architecture` (new model) or `init` (fine-tune)."
            )
        return self
