"""Shared fixtures: the world CLIP (trained once, cached in the user cache dir), isolated settings."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from llm_files import smollm2_gguf

from clipflows.agents.llm_registry import TEST_LLM
from clipflows.components.settings import Settings, default_cache_dir


@pytest.fixture(autouse=True)
def _no_user_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Tests never read the developer's own CLIPFLOWS_* variables, nor write the user's log
    file, test the plumbing with the small SmolLM2 and run on the world CLIP, named explicitly
    since the default is a real CLIP whose weights are not offline (subprocesses inherit all
    four); quality tests name the default LLM, and the tests of the default CLIP remove it."""
    for name in list(os.environ):
        if name.startswith("CLIPFLOWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CLIPFLOWS_LLM__MODEL", TEST_LLM)
    monkeypatch.setenv("CLIPFLOWS_CLIP", "world")
    log_file = tmp_path_factory.mktemp("log") / "clipflows.log"  # beside tmp_path, not in it
    monkeypatch.setenv("CLIPFLOWS_LOG_FILE", str(log_file))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh cache directory per test."""
    return Settings(cache_dir=tmp_path / "cache")


@pytest.fixture(scope="session")
def world_clip_dir() -> Path:
    """The world CLIP, trained on first use and cached under the user cache dir by its recipe."""
    from clipflows.components.world.model import ensure_world_clip

    return ensure_world_clip(default_cache_dir())


@pytest.fixture(scope="session")
def world_spec(world_clip_dir: Path) -> str:
    return f"local-dir:{world_clip_dir}"


@pytest.fixture
def world_cache_dir(tmp_path: Path, world_clip_dir: Path) -> Path:
    """A fresh cache dir in which the named spec ``world`` finds the trained world CLIP (linked,
    not trained again), for tests that name ``world`` with a cache of their own."""
    cache = tmp_path / "cache"
    recipe_dir = world_clip_dir.parent  # cache/world-clip/<recipe key>/model
    (cache / "world-clip").mkdir(parents=True)
    (cache / "world-clip" / recipe_dir.name).symlink_to(recipe_dir, target_is_directory=True)
    return cache


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect server and database for tests that run flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


class _ChatHandler(BaseHTTPRequestHandler):
    """POST /v1/chat/completions answered by a real Llama, enforcing schemas as llama.cpp does."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        from clipflows.agents.schemas import json_schema_of

        schema = json_schema_of(body.get("response_format"))
        answer = self.server.llama.create_chat_completion(
            messages=body["messages"],
            temperature=body.get("temperature", 0.0),
            max_tokens=body.get("max_tokens"),
            seed=body.get("seed"),
            response_format=None if schema is None else {"type": "json_object", "schema": schema},
        )
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def tiny_server() -> Iterator[HTTPServer]:
    """A minimal OpenAI-compatible server in a thread, serving the real SmolLM2 model."""
    from llama_cpp import Llama

    from clipflows.agents.embedded import default_threads

    server = HTTPServer(("127.0.0.1", 0), _ChatHandler)
    threads = default_threads()
    server.llama = Llama(
        str(smollm2_gguf()),
        n_ctx=2048,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    """An untrained separator small enough for a CPU (384-d queries), saved the way training
    saves one."""
    import numpy as np
    import torch

    from clipflows.components.separation.model import QuerySeparator, SeparatorConfig
    from clipflows.components.separation.training import SeparationTrainConfig, save_separator

    torch.manual_seed(0)
    tiny = SeparatorConfig(depth=2, base_channels=4, feature_maps=2, query_dim=384)
    folder = tmp_path / "model"
    folder.mkdir()
    config = SeparationTrainConfig(model=tiny, steps=1)
    save_separator(QuerySeparator(tiny), config, np.zeros((1, 384), np.float32), folder)
    return folder
