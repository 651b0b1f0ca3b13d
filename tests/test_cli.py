"""The command line as a person uses it: subprocesses, real files, readable output."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _cli(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clipflows.flows.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING", **(env or {})},
    )


def test_importing_the_packages_loads_no_model_and_reads_no_settings(tmp_path):
    code = (
        "import sys, clipflows.components, clipflows.agents, clipflows.flows, clipflows.ui\n"
        "import clipflows.flows.cli\n"
        "heavy = {'open_clip', 'llama_cpp', 'vllm', 'prefect'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "CLIPFLOWS_CONFIG": str(tmp_path / "missing.toml")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr


def test_world_then_train_clip_then_use_it(tmp_path):
    made = _cli("world", str(tmp_path / "data"), "--count", "40", "--colours", "red,blue")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "data" / "captions.jsonl").is_file()
    trained = _cli(
        "train-clip",
        str(tmp_path / "data"),
        str(tmp_path / "model"),
        "--steps",
        "3",
        "--batch-size",
        "8",
        env={"CLIPFLOWS_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert f"local-dir:{tmp_path / 'model'}" in trained.stdout
    checked = _cli(
        "models",
        "--check",
        f"local-dir:{tmp_path / 'model'}",
        env={"CLIPFLOWS_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert checked.returncode == 0 and "OK" in checked.stdout, checked.stderr


def test_bad_world_options_are_one_readable_error(tmp_path):
    result = _cli("world", str(tmp_path / "w"), "--colours", "red,magenta")
    assert result.returncode == 2 and "magenta" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("use_csv", [True, False])
def test_diff_from_folders_or_a_visdiffbench_csv(use_csv, tmp_path, world_spec):
    from clipflows.components.world_sets import WORLD_SET_PAIRS, write_pair

    set_a, set_b = write_pair(WORLD_SET_PAIRS[0], tmp_path, count=12)
    if use_csv:
        rows = ["group_name,path"] + [
            f"{group},{p.relative_to(tmp_path)}"
            for group, folder in (("red things", set_a), ("blue things", set_b))
            for p in sorted(folder.glob("*.png"))
        ]
        (tmp_path / "images.csv").write_text("\n".join(rows) + "\n")
        inputs = ["red things", "blue things", "--csv", str(tmp_path / "images.csv")]
    else:
        inputs = [str(set_a), str(set_b)]
    result = _cli(
        "diff",
        *inputs,
        "--rounds",
        "1",
        "--sample-size",
        "6",
        "-o",
        str(tmp_path / "report"),
        env={"CLIPFLOWS_CACHE_DIR": str(tmp_path / "cache"), "CLIPFLOWS_CLIP": world_spec},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "AUROC" in result.stdout and (tmp_path / "report" / "report.html").is_file()


def test_help_lists_the_commands():
    result = _cli("--help")
    assert result.returncode == 0
    for command in ("models", "world", "train-clip", "diff", "demo"):
        assert command in result.stdout


def test_missing_weights_is_one_readable_error(tmp_path):
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


def test_demo_runs_every_workflow_offline(world_clip_dir, tmp_path):
    # The world CLIP comes from the default user cache dir (trained once by the fixture).
    result = _cli("demo", "--as-json", env={"CLIPFLOWS_CACHE_DIR": str(world_clip_dir.parents[2])})
    assert result.returncode == 0, result.stderr[-2000:]
    payload = json.loads(result.stdout)
    assert payload["world"]["accuracy"] >= 0.70
    assert str(world_clip_dir) in payload["clip_spec"]
    diff = payload["set_difference"]
    assert diff["evaluation"]["acc_at_1"] == 1.0, diff["top"]
    assert diff["report"].endswith("report.html")
    oracle, llm_run = payload["classification"]
    accuracy = {m["method"]: m["accuracy"] for m in oracle["methods"]}
    assert accuracy["one template"] < 0.6 and accuracy["FuDD (paper rule)"] > 0.95, accuracy
    assert llm_run["descriptions"] == "llm" and llm_run["classes"] == 8
    assert 0 < llm_run["pairs_occurring"] < llm_run["pairs_possible"] == 28
    assert {m["method"] for m in llm_run["methods"]} >= {"generic descriptions", "FuDD + fusion"}
    separation = payload["separation"]
    assert separation["si_sdr_improvement"] > 1.0, separation  # a held-out dog from a violin
    assert Path(separation["separated"]).is_file() and Path(separation["figure"]).is_file()
    music = payload["music"]
    assert music["tracks"] == 28 and len(music["picks"]) == 5
    recall = music["video_recall_at_10"]
    assert recall["trained"] > max(recall["untrained"], recall["random"]), recall
    assert all(len(p["top_tracks"]) == 3 for p in music["picks"])


def test_sets_are_named_by_folder_or_by_path_when_folder_names_clash():
    from clipflows.flows.cli import _set_names

    assert _set_names("x/this-week", "y/last-week") == ("this-week", "last-week")
    assert _set_names("a/images", "b/images") == ("a/images", "b/images")


def test_runner_options_keep_the_flow_default_unless_asked():
    from clipflows.flows.cli_common import with_runner
    from clipflows.flows.set_difference import set_difference

    assert with_runner(set_difference, "thread", None) is set_difference  # its 8 threads
    assert with_runner(set_difference, "thread", 3).task_runner._max_workers == 3
    dask = with_runner(set_difference, "dask", None).task_runner
    assert dask.cluster_kwargs["n_workers"] == 2 and dask.cluster_kwargs["threads_per_worker"] == 1
