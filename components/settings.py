"""Settings for every part of clipflows, read when asked for (never at import time).

Values come, highest priority first, from keyword arguments, ``CLIPFLOWS_*`` environment
variables (nested with ``__``, e.g. ``CLIPFLOWS_LLM__BACKEND``), and an optional TOML or YAML
file named by ``CLIPFLOWS_CONFIG`` or passed to :func:`load_settings`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

from clipflows.components.errors import SettingsError

LLMBackendName = Literal["embedded", "openai-compatible", "vllm"]

# The CLIP a user's own images get: open_clip's ViT-B-32 trained on LAION-2B (66.6 % zero-shot on
# ImageNet), the most used open CLIP, and the largest that encodes ~23 images/s on 2 CPU cores.
# Its weights come from the Hugging Face hub cache; offline, every command that needs them stops
# with one error naming the ways out. `world` (coloured shapes only) must be asked for by name.
DEFAULT_CLIP = "ViT-B-32:laion2b_s34b_b79k"


def default_cache_dir() -> Path:
    """The user's cache directory for clipflows (XDG on Linux)."""
    return Path(platformdirs.user_cache_dir("clipflows"))


class LLMSettings(BaseModel):
    """Which LLM answers, and how it is asked."""

    backend: LLMBackendName = "embedded"
    model: str | None = Field(
        default=None,
        description="embedded: a registered LLM (`clipflows models`; default "
        "qwen2.5-coder-1.5b) or the path of a chat GGUF file; openai-compatible: the served "
        "model name; vllm: a model folder or hub id.",
    )
    models_dir: Path = Field(
        default_factory=lambda: default_cache_dir() / "llms",
        description="Where registered LLM files are stored once fetched (shared by every "
        "cache_dir, like the Hugging Face hub cache).",
    )
    base_url: str = "http://127.0.0.1:8000/v1"
    api_key: SecretStr = SecretStr("EMPTY")
    structured_output: Literal["json_schema", "json_object"] = Field(
        default="json_schema",
        description="How the server enforces a schema: vLLM and OpenAI take json_schema; "
        "llama.cpp's server takes json_object with a schema.",
    )
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, gt=0, le=1_000_000)
    timeout_s: float = Field(
        default=120.0, gt=0, le=86_400, description="Overall deadline per LLM request, seconds."
    )
    max_retries: int = Field(
        default=2, ge=0, le=10, description="Re-asks after an answer that fails validation."
    )
    request_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="openai-compatible: HTTP retries, with exponential backoff, after a "
        "timeout, a refused connection, HTTP 429 or 5xx; then one clear error.",
    )
    context_length: int = Field(default=2048, gt=0, le=10_000_000)
    threads: int | None = Field(default=None, ge=1, le=4096)
    seed: int = 0


class UISettings(BaseModel):
    """The web app's limits (the CLI passes ``upload_mb`` to the Streamlit server too)."""

    upload_mb: int = Field(default=200, ge=1, le=10_000, description="Largest upload, MB.")
    unzipped_mb: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Most an upload's zips may expand to, MB, all members together.",
    )
    zip_ratio: float = Field(
        default=100.0,
        ge=1.0,
        description="Largest expansion of a zip member over 1 MB (its size / compressed size).",
    )


class Settings(BaseSettings):
    """Top-level settings: where caches live, which device and models to use."""

    model_config = SettingsConfigDict(
        env_prefix="CLIPFLOWS_", env_nested_delimiter="__", extra="forbid"
    )

    cache_dir: Path = Field(default_factory=default_cache_dir)
    device: str = Field(default="auto", description="'auto', 'cpu', 'cuda', 'cuda:1', 'mps'.")
    clip: str = Field(
        default=DEFAULT_CLIP,
        description="CLIP spec; see docs/clip-specs.md. 'world' knows only coloured shapes.",
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        default="auto", description="CLIP inference precision; auto = bf16 where native."
    )
    llm: LLMSettings = Field(default_factory=LLMSettings)
    ui: UISettings = Field(default_factory=UISettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = settings_cls.model_config.get("toml_file") or settings_cls.model_config.get(
            "yaml_file"
        )
        if config_file:
            if str(config_file).endswith((".yaml", ".yml")):
                sources.append(YamlConfigSettingsSource(settings_cls))
            else:
                sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)


def load_settings(config_file: str | Path | None = None, **overrides: object) -> Settings:
    """Read settings from the environment and an optional TOML/YAML file (parsed, never run).

    Raises :class:`SettingsError` with one line per bad value, naming the setting and where it
    came from (which environment variable, the settings file, or an argument).
    """
    path = config_file or os.environ.get("CLIPFLOWS_CONFIG")
    if not path:
        try:
            return Settings(**overrides)
        except ValidationError as error:
            raise SettingsError(_describe(error, None, overrides)) from error
    path = Path(path).expanduser()
    if not path.is_file():
        raise SettingsError(
            f"Settings file {path} does not exist (from --config or CLIPFLOWS_CONFIG); "
            "give an existing TOML or YAML file, or unset CLIPFLOWS_CONFIG."
        )
    key = "yaml_file" if path.suffix in {".yaml", ".yml"} else "toml_file"
    file_settings = type(
        "FileSettings", (Settings,), {"model_config": {**Settings.model_config, key: path}}
    )
    try:
        return file_settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_describe(error, path, overrides)) from error
    except Exception as error:  # a TOML or YAML syntax error, or a tag the safe loader refuses
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise SettingsError(
            f"Settings file {path} cannot be read as {'YAML' if key == 'yaml_file' else 'TOML'}: "
            f"{type(error).__name__}: {first_line}"
        ) from error


def _describe(error: ValidationError, path: Path | None, overrides: dict) -> str:
    """One line for each bad value: the setting, its value, where it came from, and why."""
    problems = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        name = ".".join(loc) or "settings"
        problems.append(
            f"setting {name} = {item.get('input')!r} from {_source(loc, path, overrides)}: "
            f"{item['msg']}"
        )
    return "Invalid settings: " + "; ".join(problems) + "."


def _source(loc: list[str], path: Path | None, overrides: dict) -> str:
    """Where a setting's value came from, for the error message."""
    if loc and loc[0] in overrides:
        return "the command line"
    environ = {name.upper(): name for name in os.environ}
    for depth in range(len(loc), 0, -1):  # CLIPFLOWS_LLM__TIMEOUT_S, then CLIPFLOWS_LLM (JSON)
        variable = "CLIPFLOWS_" + "__".join(loc[:depth]).upper()
        if variable in environ:
            return f"environment variable {environ[variable]}"
    if path is not None:
        return f"settings file {path}"
    return "the defaults"


def world_unless_named(settings: Settings) -> Settings:
    """``settings`` with the world CLIP unless the user named a CLIP (argument, environment or
    file): for the workflows whose images are world renders (the demo, the world task, the
    music model's synthetic videos), where the default real CLIP is not needed offline."""
    if "clip" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"clip": "world"})
