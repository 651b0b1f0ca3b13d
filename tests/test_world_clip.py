"""The world CLIP's quality and the demo built on it."""

import json
import os
import subprocess
import sys

from clipflows.components.clip import ClipEncoder
from clipflows.components.world_eval import evaluate_world, held_out_set


def test_world_clip_zero_shot_colour_shape_accuracy_is_at_least_70_percent(
    world_spec, settings, tmp_path
):
    encoder = ClipEncoder(world_spec, settings=settings)
    result = evaluate_world(encoder, held_out_set(tmp_path / "held-out", count=480))
    assert result.images == 480 and result.classes == 24
    assert result.accuracy >= 0.70, result
    assert result.colour_accuracy >= result.accuracy and result.shape_accuracy >= result.accuracy


def test_world_recipe_is_cached_by_its_config(world_clip_dir):
    from clipflows.components.world_clip import WorldClipRecipe
    from clipflows.components.world_clip import world_clip_dir as folder_for

    assert world_clip_dir.parent == folder_for(world_clip_dir.parents[2], WorldClipRecipe())
    changed = WorldClipRecipe(train_images=1000)
    assert folder_for(world_clip_dir.parents[2], changed) != world_clip_dir.parent


def _cli(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clipflows.flows.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_cli_help_lists_the_commands():
    result = _cli("--help")
    assert result.returncode == 0
    for command in ("models", "world", "train-clip", "demo"):
        assert command in result.stdout


def test_cli_missing_weights_is_one_readable_error(tmp_path):
    result = _cli(
        "models",
        "--check",
        "ViT-B-32:laion2b_s34b_b79k",
        env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path)},
        timeout=60,
    )
    assert result.returncode == 2
    assert "Error:" in result.stderr and "Ways out" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_demo_prints_the_world_result(world_clip_dir, tmp_path):
    # The demo uses the world CLIP cached in the default user cache dir (trained by the fixture).
    result = _cli("demo", "--as-json", env={"PREFECT_LOGGING_LEVEL": "WARNING"})
    assert result.returncode == 0, result.stderr[-2000:]
    payload = json.loads(result.stdout)
    assert payload["world"]["accuracy"] >= 0.70
    assert str(world_clip_dir) in payload["clip_spec"]
