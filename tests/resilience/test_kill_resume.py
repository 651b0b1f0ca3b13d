"""Kill a workflow's process mid-task, rerun it: finished work is not redone, outputs match."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from clipflows.components.cache import EmbeddingCache, JsonCache
from clipflows.components.settings import Settings
from clipflows.components.world.class_task import world_class_task
from clipflows.components.world.scenes import WorldConfig
from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, write_pair
from clipflows.flows.classify import ClassifyConfig, classify
from clipflows.flows.set_difference import set_difference

pytestmark = pytest.mark.slow


def start(script: str, cache_dir: Path, world_spec: str, log: Path) -> subprocess.Popen:
    """Run ``script`` in a new Python process with the test's settings in its environment."""
    env = {
        **os.environ,
        "CLIPFLOWS_CACHE_DIR": str(cache_dir),
        "CLIPFLOWS_CLIP": world_spec,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its temporary Prefect server dies with it
    )


def kill_when(process: subprocess.Popen, ready, timeout_s: float, log: Path) -> None:
    """SIGKILL the process group as soon as ``ready()`` holds (the work is then half done)."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        assert process.poll() is None, f"finished before the kill:\n{log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"never got there:\n{log.read_text()[-2000:]}"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_set_difference_killed_while_encoding(tmp_path, world_spec, prefect_harness):
    set_a, set_b = write_pair(WORLD_SET_PAIRS[0], tmp_path / "sets", count=400)
    cache_dir, output = tmp_path / "cache", tmp_path / "report"
    script = f"""
        from clipflows.flows.set_difference import set_difference
        from clipflows.components.world.vocabulary import WORLD_VOCABULARY
        set_difference({str(set_a)!r}, {str(set_b)!r}, vocabulary=WORLD_VOCABULARY,
                       vocabulary_candidates=True, llm_proposals=False, output={str(output)!r})
    """
    log = tmp_path / "child.log"
    child = start(script, cache_dir, world_spec, log)
    embeddings = EmbeddingCache(cache_dir / "embeddings")
    kill_when(child, lambda: len(embeddings) >= 96, 600, log)
    done_before = len(embeddings)
    assert done_before < 800 and not (output / "result.json").exists()

    settings = Settings(cache_dir=cache_dir, clip=world_spec)
    kwargs = dict(vocabulary_candidates=True, llm_proposals=False, output=str(output))
    from clipflows.components.world.vocabulary import WORLD_VOCABULARY

    resumed = set_difference(
        str(set_a), str(set_b), settings, vocabulary=WORLD_VOCABULARY, **kwargs
    )
    # Only the images the killed run had not finished are encoded (batches land whole).
    assert resumed.set_a.encoded + resumed.set_b.encoded == 800 - done_before
    fresh = set_difference(
        str(set_a),
        str(set_b),
        Settings(cache_dir=tmp_path / "fresh", clip=world_spec),
        vocabulary=WORLD_VOCABULARY,
        vocabulary_candidates=True,
        llm_proposals=False,
    )
    assert [(s.text, s.direction, round(s.auroc, 6)) for s in resumed.ranking] == [
        (s.text, s.direction, round(s.auroc, 6)) for s in fresh.ranking
    ]
    assert json.loads((output / "result.json").read_text())["ranking"][0]["text"] == "red"
    assert not list(output.glob("*.partial*"))


def test_classify_killed_while_the_llm_describes_pairs(tmp_path, world_spec, prefect_harness):
    world = WorldConfig(colours=["red", "blue"])
    data = world_class_task(tmp_path / "task", count=64, config=world)
    cache_dir = tmp_path / "cache"
    config = ClassifyConfig(descriptions="llm", k=4, generic=False, ensemble=False)
    script = f"""
        from clipflows.flows.classify import ClassifyConfig, classify
        from clipflows.components.world.scenes import WorldConfig
        from clipflows.components.world.class_task import world_class_task
        from pathlib import Path
        data = world_class_task(Path({str(tmp_path / "task")!r}), 64, WorldConfig(colours=["red", "blue"]))
        classify(data, config=ClassifyConfig.model_validate_json({config.model_dump_json()!r}),
                 output={str(tmp_path / "report")!r})
    """
    log = tmp_path / "child.log"
    child = start(script, cache_dir, world_spec, log)
    answers = JsonCache(cache_dir / "llm")
    kill_when(child, lambda: len(answers) >= 3, 900, log)
    answered = len(answers)
    assert not (tmp_path / "report" / "result.json").exists()

    resumed = classify(data, settings=Settings(cache_dir=cache_dir, clip=world_spec), config=config)
    assert resumed.llm_calls_pairs == resumed.pairs_occurring - answered  # no pair asked twice
    again = classify(data, settings=Settings(cache_dir=cache_dir, clip=world_spec), config=config)
    assert again.llm_calls == 0
    fresh = classify(
        data, settings=Settings(cache_dir=tmp_path / "fresh", clip=world_spec), config=config
    )
    assert [p.model_dump() for p in resumed.predictions] == [
        p.model_dump() for p in fresh.predictions
    ]
    assert resumed.methods == fresh.methods
