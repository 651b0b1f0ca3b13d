"""The world CLIP's recipe and where its model is cached, without the training code: importing
this loads no torch, so `clipflows models` can say whether the model is trained in a moment."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from clipflows.components.cache import stable_hash
from clipflows.components.clip.text_towers import SENTENCE_TOWER
from clipflows.components.clip.train_config import ClipTrainConfig
from clipflows.components.world.scenes import WORLD_VERSION, WorldConfig

# A small ResNet image tower learns shape at 64x64 far faster on a CPU than a ViT of equal cost
# (measured: ViT width 128, 600 steps -> 43 % colour x shape; this tower, 600 steps -> 100 %).
TINY_ARCHITECTURE: dict = {
    "embed_dim": 128,
    "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16, "head_width": 64},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 128, "heads": 2, "layers": 3},
}


# The world CLIP reads with a tower that knows language: all-MiniLM-L6-v2 (shipped offline),
# locked, under a trained projection. Trained on the world's captions alone (its own tower,
# TINY_ARCHITECTURE) it knew no other words: "crimson circle" scored 16 % and "red round disc"
# 3 %, where "red circle" scored 100 % (`python tests/bench/eval_world_paraphrases.py`).
WORLD_ARCHITECTURE: dict = {
    "embed_dim": 128,
    "vision_cfg": TINY_ARCHITECTURE["vision_cfg"],
    "text_cfg": {
        "hf_model_name": SENTENCE_TOWER,
        "hf_tokenizer_name": SENTENCE_TOWER,
        "hf_pooler_type": "mean_pooler",
        "hf_proj_type": "mlp",
        "context_length": 32,
    },
}


class WorldClipRecipe(BaseModel):
    """Everything that determines the world CLIP's weights."""

    world_version: int = WORLD_VERSION
    world: WorldConfig = Field(default_factory=lambda: WorldConfig(paraphrase=0.5))
    train_images: int = 16_000
    training: ClipTrainConfig = Field(
        default_factory=lambda: ClipTrainConfig(
            architecture=WORLD_ARCHITECTURE,
            lock_text=True,
            steps=500,
            batch_size=128,
            learning_rate=1e-3,
            warmup_steps=50,
            checkpoint_every=50,
            precision="bf16",
        )
    )

    def key(self) -> str:
        return stable_hash(self.model_dump())[:16]


def world_clip_dir(cache_dir: Path, recipe: WorldClipRecipe | None = None) -> Path:
    """Folder of the cached world model for a recipe (it may not be trained yet)."""
    return Path(cache_dir) / "world-clip" / (recipe or WorldClipRecipe()).key()
