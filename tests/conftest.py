"""Shared fixtures: the world CLIP (trained once, cached in the user cache dir), isolated settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clipflows.components.settings import Settings, default_cache_dir


@pytest.fixture(autouse=True)
def _no_user_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the developer's own CLIPFLOWS_* variables."""
    for name in list(os.environ):
        if name.startswith("CLIPFLOWS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh cache directory per test."""
    return Settings(cache_dir=tmp_path / "cache")


@pytest.fixture(scope="session")
def world_clip_dir() -> Path:
    """The world CLIP, trained on first use and cached under the user cache dir by its recipe."""
    from clipflows.components.world_clip import ensure_world_clip

    return ensure_world_clip(default_cache_dir())


@pytest.fixture(scope="session")
def world_spec(world_clip_dir: Path) -> str:
    return f"local-dir:{world_clip_dir}"


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect server and database for tests that run flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
