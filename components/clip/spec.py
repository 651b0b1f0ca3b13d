"""The CLIP spec grammar: one string names an architecture and where its weights come from.

The forms are data (:data:`SPEC_FORMS`, which ``clipflows models`` shows as a table); the
named specs, such as ``world``, are in ``clip.named``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from clipflows.components.clip.named import NAMED_SPECS
from clipflows.components.errors import SpecError

SpecKind = Literal["named", "pretrained", "checkpoint", "local-dir", "hf-hub", "random"]
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors")

# Each form a spec can take and what it means (`clipflows models` prints this table).
SPEC_FORMS: tuple[tuple[str, str], ...] = (
    ("world", "the tiny CLIP clipflows trains on its procedural world (trained on first use)"),
    (
        "NAME:TAG",
        "open_clip architecture with a pretrained tag, from the Hugging Face hub cache "
        "(e.g. ViT-B-32:laion2b_s34b_b79k)",
    ),
    (
        "NAME:/path/weights.pt",
        "open_clip architecture with a local checkpoint (.pt, .pth, .bin or .safetensors)",
    ),
    (
        "local-dir:/path",
        "a folder with open_clip_config.json and weights, as clipflows train-clip writes "
        "(a bare folder path works too)",
    ),
    ("hf-hub:ORG/REPO", "an open_clip repository in the Hugging Face hub cache"),
    ("NAME:random", "random weights (benchmarks and tests only)"),
)


class ClipSpec(BaseModel, frozen=True):
    """A parsed CLIP spec; ``str(spec)`` gives back the canonical string."""

    kind: SpecKind
    model: str | None = None
    source: str | None = None  # name, tag, checkpoint path, folder or hub repo id

    def __str__(self) -> str:
        if self.kind == "named":
            return str(self.source)
        if self.kind in {"local-dir", "hf-hub"}:
            return f"{self.kind}:{self.source}"
        return f"{self.model}:{self.source}"


def parse_spec(spec: str) -> ClipSpec:
    """Parse a spec string; raises SpecError with the grammar when it cannot."""
    text = spec.strip()
    if not text:
        raise SpecError(f"Empty CLIP spec. {_GRAMMAR_HINT}")
    if text in NAMED_SPECS:
        return ClipSpec(kind="named", source=text)
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
        raise SpecError(f"CLIP spec {spec!r} {_suggest(name)} {_GRAMMAR_HINT}")
    if source == "random":
        return ClipSpec(kind="random", model=name, source="random")
    if source.endswith(CHECKPOINT_SUFFIXES) or "/" in source:
        return ClipSpec(kind="checkpoint", model=name, source=str(Path(source).expanduser()))
    return ClipSpec(kind="pretrained", model=name, source=source)


def _suggest(name: str) -> str:
    """Why a spec without weights fails, with real specs to try: the architecture's own
    pretrained tags, or named specs and open_clip architectures whose names are close."""
    import difflib

    import open_clip  # only on this error path: it imports torch

    architectures = open_clip.list_models()
    if name in architectures:
        tags = open_clip.list_pretrained_tags_by_model(name)
        examples = ", ".join(f"'{name}:{tag}'" for tag in tags[:3]) or f"'{name}:/path/weights.pt'"
        return f"names no weights: add a pretrained tag or a checkpoint path, e.g. {examples}."
    candidates = {c.lower(): c for c in [*NAMED_SPECS, *architectures]}
    close = difflib.get_close_matches(name.lower(), list(candidates), n=3, cutoff=0.6)
    if close:
        specs = []
        for match in (candidates[c] for c in close):
            tags = [] if match in NAMED_SPECS else open_clip.list_pretrained_tags_by_model(match)
            if match in NAMED_SPECS:
                specs.append(f"'{match}'")
            else:
                specs.append(f"'{match}:{tags[0]}'" if tags else f"'{match}:/path/weights.pt'")
        return f"is not a named spec or an open_clip architecture; did you mean {', '.join(specs)}?"
    return (
        f"is not a named spec ({', '.join(sorted(NAMED_SPECS))}) or an open_clip architecture "
        "(`python -c 'import open_clip; print(open_clip.list_models())'`)."
    )


_GRAMMAR_HINT = (
    "Specs: " + ", ".join(f"'{form}'" for form, _ in SPEC_FORMS) + " (see `clipflows models`)."
)
