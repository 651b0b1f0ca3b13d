"""How a result was made: the models, the settings that changed it, the code and the time.

Every report carries one :class:`Provenance`, so a result read a month later still answers
"which models made this?". Flows fill in the parts they used; nothing here loads a model.
"""

from __future__ import annotations

import importlib.metadata
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from clipflows.components.settings import Settings

# Settings that decide where things are stored or how the web app behaves, not what a result is,
# and the CLIP spec, which has a field of its own.
_NOT_RESULT_SETTINGS = {
    "cache_dir": True,
    "ui": True,
    "clip": True,
    "llm": {"api_key", "models_dir"},
}


def clipflows_version() -> str:
    """The installed clipflows version ("unknown" when run from a tree that was not installed)."""
    try:
        return importlib.metadata.version("clipflows")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class Provenance(BaseModel):
    """The models and settings behind one result; a part a workflow did not use stays None."""

    clipflows_version: str = Field(default_factory=clipflows_version)
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    clip: str | None = None  # the spec as asked for, e.g. "world" or "ViT-B-32:laion2b_s34b_b79k"
    clip_weights: str | None = None  # what the spec resolved to: a pretrained tag or a file hash
    captioner: str | None = None
    vocabulary: str | None = None  # the phrases captions and candidates come from, and how many
    llm: str | None = None  # "backend:model"
    llm_weights: str | None = None  # the model file's sha256 where clipflows knows it
    settings: dict[str, Any] = Field(default_factory=dict)  # the result settings not at default

    def lines(self) -> list[str]:
        """One "name: value" line per recorded part, for terminals and Markdown lists."""
        parts = {
            "CLIP": self.clip and _with(self.clip, self.clip_weights),
            "captioner": self.captioner,
            "vocabulary": self.vocabulary,
            "LLM": self.llm and _with(self.llm, self.llm_weights),
            "settings changed": ", ".join(f"{k}={v}" for k, v in _flat(self.settings).items()),
            "clipflows": f"{self.clipflows_version}, {self.created}",
        }
        return [f"{name}: {value}" for name, value in parts.items() if value]


def changed_settings(settings: Settings) -> dict[str, Any]:
    """The settings that change results and differ from their defaults (JSON-ready)."""
    return settings.model_dump(mode="json", exclude_defaults=True, exclude=_NOT_RESULT_SETTINGS)


def _with(name: str, detail: str | None) -> str:
    return f"{name} ({detail})" if detail and detail != name else name


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
