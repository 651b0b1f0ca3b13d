"""Fixtures shared by the resilience tests."""

from __future__ import annotations

import numpy as np
import pytest

from clipflows.components.settings import Settings


@pytest.fixture(scope="session")
def tiny_separator(tmp_path_factory, world_spec) -> tuple[str, Settings]:
    """A two-step separator queried through the world CLIP's text tower (loads in a second):
    its folder and the settings that name that CLIP."""
    from test_separation_kill_resume import tone_splits

    from clipflows.components.separation.model import SeparatorConfig
    from clipflows.components.separation.query_encoders import query_encoder
    from clipflows.components.separation.training import SeparationTrainConfig, train_separator

    folder = tmp_path_factory.mktemp("separator")
    settings = Settings(cache_dir=folder / "cache", clip=world_spec)
    dim = query_encoder("clip-text", settings).dim
    config = SeparationTrainConfig(
        steps=2,
        batch_size=2,
        validation_mixtures=2,
        query_encoder="clip-text",
        model=SeparatorConfig(depth=2, base_channels=4, feature_maps=4),
    )
    train_separator(config, tone_splits(), np.eye(3, dim, dtype=np.float32), folder / "model")
    return str(folder / "model"), settings
