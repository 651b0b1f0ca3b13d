"""API keys never reach logs, reports, results or Prefect artifacts."""

from __future__ import annotations

import logging
from pathlib import Path

from clipflows.components.settings import load_settings
from clipflows.components.world.class_task import world_class_task
from clipflows.components.world.scenes import WorldConfig
from clipflows.flows.classify import ClassifyConfig, classify

SECRET = "sk-test-DO-NOT-LEAK-4f1d2c"


def test_the_api_key_appears_nowhere(tmp_path, monkeypatch, world_spec, prefect_harness, caplog):
    monkeypatch.setenv("CLIPFLOWS_LLM__API_KEY", SECRET)
    settings = load_settings(cache_dir=tmp_path / "cache", clip=world_spec)
    assert settings.llm.api_key.get_secret_value() == SECRET
    assert SECRET not in repr(settings) and SECRET not in settings.model_dump_json()
    data = world_class_task(tmp_path / "task", 32, WorldConfig(colours=["red"]))
    with caplog.at_level(logging.DEBUG):
        result = classify(
            data,
            settings=settings,
            config=ClassifyConfig(descriptions="world", k=3),
            output=str(tmp_path / "report"),
        )
    assert SECRET not in result.model_dump_json()
    assert SECRET not in caplog.text
    for path in Path(tmp_path / "report").iterdir():
        assert SECRET not in path.read_text(errors="replace"), path
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
    assert artifacts and all(SECRET not in str(a.data) for a in artifacts)
