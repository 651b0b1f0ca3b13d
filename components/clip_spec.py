"""The CLIP spec grammar: one string names an architecture and where its weights come from.

=============================  ==========================================================
``world``                      the tiny CLIP clipflows trains on its procedural world
``NAME:TAG``                   open_clip architecture with a pretrained tag, from the hub
                               cache (e.g. ``ViT-B-32:laion2b_s34b_b79k``)
``NAME:/path/weights.pt``      open_clip architecture with a local checkpoint
                               (``.pt``, ``.pth``, ``.bin`` or ``.safetensors``)
``local-dir:/path``            a folder with ``open_clip_config.json`` and weights, as
                               ``clipflows train-clip`` writes (a bare folder path works too)
``hf-hub:ORG/REPO``            an open_clip repository in the Hugging Face hub cache
``NAME:random``                random weights (benchmarks and tests only)
=============================  ==========================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from .errors import SpecError

SpecKind = Literal["world", "pretrained", "checkpoint", "local-dir", "hf-hub", "random"]
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors")


class ClipSpec(BaseModel, frozen=True):
    """A parsed CLIP spec; ``str(spec)`` gives back the canonical string."""

    kind: SpecKind
    model: str | None = None
    source: str | None = None  # tag, checkpoint path, folder or hub repo id

    def __str__(self) -> str:
        if self.kind == "world":
            return "world"
        if self.kind in {"local-dir", "hf-hub"}:
            return f"{self.kind}:{self.source}"
        return f"{self.model}:{self.source}"


def parse_spec(spec: str) -> ClipSpec:
    """Parse a spec string; raises SpecError with the grammar when it cannot."""
    text = spec.strip()
    if not text:
        raise SpecError(f"Empty CLIP spec. {_GRAMMAR_HINT}")
    if text == "world":
        return ClipSpec(kind="world")
    if text.startswith("local-dir:"):
        return ClipSpec(kind="local-dir", source=str(Path(text[len("local-dir:") :]).expanduser()))
    if text.startswith("hf-hub:"):
        repo = text[len("hf-hub:") :]
        if repo.count("/") != 1:
            raise SpecError(f"CLIP spec {spec!r}: expected hf-hub:ORG/REPO. {_GRAMMAR_HINT}")
        return ClipSpec(kind="hf-hub", source=repo)
    if Path(text).expanduser().is_dir():
        return ClipSpec(kind="local-dir", source=str(Path(text).expanduser()))
    name, sep, source = text.partition(":")
    if not sep or not name or not source:
        raise SpecError(
            f"CLIP spec {spec!r} names no weights: add a pretrained tag or a checkpoint path, "
            f"e.g. '{name or 'ViT-B-32'}:laion2b_s34b_b79k'. {_GRAMMAR_HINT}"
        )
    if source == "random":
        return ClipSpec(kind="random", model=name, source="random")
    if source.endswith(CHECKPOINT_SUFFIXES) or "/" in source:
        return ClipSpec(kind="checkpoint", model=name, source=str(Path(source).expanduser()))
    return ClipSpec(kind="pretrained", model=name, source=source)


_GRAMMAR_HINT = (
    "Specs: 'world', 'NAME:TAG', 'NAME:/path/weights.pt', 'local-dir:/path', 'hf-hub:ORG/REPO', "
    "'NAME:random' (see `clipflows models`)."
)
