"""Hugging Face text towers for CLIP: the packaged sentence model as a tower, found by name, and
the outputs of a locked tower computed once per caption.

A tower that knows language (all-MiniLM-L6-v2, shipped offline) lets a small CLIP trained on
the world's captions read words it never saw in them ("crimson", "round"). Configs name it by a
stable marker, resolved to this machine's package folder when a model is built, so cache keys
and saved configs do not depend on where Python is installed. A saved model carries the tower's
own config and tokenizer files, so its folder is complete on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clipflows.components.sentence import sentence_model_dir

if TYPE_CHECKING:
    import torch

SENTENCE_TOWER = "clipflows:all-MiniLM-L6-v2"
PACKAGED_TOWERS: dict[str, Callable[[], Path]] = {SENTENCE_TOWER: sentence_model_dir}


def is_hf_tower(text_cfg: dict) -> bool:
    return "hf_model_name" in text_cfg


def resolved_text_cfg(text_cfg: dict, folder: Path | None = None) -> dict:
    """``text_cfg`` with its tower and tokenizer names turned into local paths: a packaged
    marker into its package folder, anything in a saved model into that model's ``folder``."""
    resolved = dict(text_cfg)
    for key in ("hf_model_name", "hf_tokenizer_name"):
        name = resolved.get(key)
        if folder is not None and name:
            resolved[key] = str(folder)
        elif name in PACKAGED_TOWERS:
            resolved[key] = str(PACKAGED_TOWERS[name]())
    return resolved


def hf_tokenizer(text_cfg: dict) -> Any:
    """open_clip's tokenizer for a (resolved) Hugging Face text config."""
    from open_clip.tokenizer import HFTokenizer

    return HFTokenizer(text_cfg["hf_tokenizer_name"], context_length=text_cfg["context_length"])


def save_tower_files(model: torch.nn.Module, tokenizer: Any, folder: Path) -> None:
    """The tower's Hugging Face config and the tokenizer's files, beside the CLIP weights."""
    model.text.config.save_pretrained(folder)
    tokenizer.tokenizer.save_pretrained(folder)


def locked_tower_outputs(
    model: torch.nn.Module, tokenizer: Any, captions: Sequence[str], batch: int = 256
) -> tuple[torch.Tensor, list[int]]:
    """The pooled outputs of a locked tower before its projection, one row per distinct
    caption, and each caption's row: they never change in training, so they are computed once."""
    import torch  # here, not at import: the world recipe names this module's tower cheaply

    distinct = list(dict.fromkeys(captions))
    row = {caption: i for i, caption in enumerate(distinct)}
    text = model.text
    was_training = text.training
    text.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(distinct), batch):
            tokens = tokenizer(distinct[start : start + batch])
            mask = (tokens != text.config.pad_token_id).long()
            hidden = text.transformer(input_ids=tokens, attention_mask=mask)
            outputs.append(text.pooler(hidden, mask).float())
        pooled = torch.cat(outputs)
    text.train(was_training)
    return pooled, [row[caption] for caption in captions]
