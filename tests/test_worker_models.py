"""A worker process loads each model once per settings and keeps a bounded few."""

from __future__ import annotations

import os
import shutil

from pydantic import SecretStr

from clipflows.components.settings import LLMSettings, Settings
from clipflows.flows.runtime.worker_models import KEEP, llm_key, worker_encoder, worker_llm


def test_the_encoder_is_loaded_once_per_settings(world_spec, tmp_path):
    settings = Settings(cache_dir=tmp_path / "one", clip=world_spec)
    first = worker_encoder(settings)
    assert worker_encoder(settings.model_copy()) is first
    other = worker_encoder(settings.model_copy(update={"cache_dir": tmp_path / "two"}))
    assert other is not first and other.settings.cache_dir == tmp_path / "two"


def test_local_weights_changed_in_place_are_loaded_again(world_clip_dir, tmp_path):
    folder = tmp_path / "my-clip"
    shutil.copytree(world_clip_dir, folder)
    settings = Settings(cache_dir=tmp_path / "cache", clip=f"local-dir:{folder}")
    first = worker_encoder(settings)
    assert worker_encoder(settings) is first
    weights = next(
        p for p in folder.iterdir() if p.suffix in {".safetensors", ".pt", ".pth", ".bin"}
    )
    later = weights.stat().st_mtime_ns + 10**9
    os.utime(weights, ns=(later, later))  # as a retrain writing the same path would
    assert worker_encoder(settings) is not first


def test_each_task_counts_its_own_llm_calls_over_one_chat_model(tmp_path):
    settings = Settings(cache_dir=tmp_path)
    one, two = worker_llm(settings), worker_llm(settings)
    assert one is not two and one.chat_model is two.chat_model
    one.calls += 3
    assert (one.calls, two.calls, worker_llm(settings).calls) == (3, 0, 0)


def test_llm_clients_differ_by_secret_and_the_key_hides_it(tmp_path):
    base = Settings(cache_dir=tmp_path, llm=LLMSettings(backend="openai-compatible", model="m"))
    other = base.model_copy(
        update={"llm": base.llm.model_copy(update={"api_key": SecretStr("sk-other")})}
    )
    assert llm_key(base) != llm_key(other)
    assert "sk-other" not in llm_key(other)
    assert worker_llm(base).chat_model is not worker_llm(other).chat_model


def test_only_the_most_recent_models_stay_loaded(tmp_path):
    settings = [Settings(cache_dir=tmp_path / str(i)) for i in range(KEEP + 1)]
    first = worker_llm(settings[0]).chat_model
    assert worker_llm(settings[0]).chat_model is first
    for later in settings[1:]:
        worker_llm(later)
    assert worker_llm(settings[0]).chat_model is not first  # evicted, then loaded again
