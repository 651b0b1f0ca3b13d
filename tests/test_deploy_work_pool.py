"""The work-pool path: `prefect deploy` from prefect.yaml, a process worker, a run triggered from
another process; the worker runs the flow in its own subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from datetime import datetime

import pytest
from test_deploy_prefect import PREFECT, REPO, prefect_server, stop  # noqa: F401 (fixture)

from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, candidate_pool, write_pair

POOL = "clipflows"
NAME = "set-difference/nightly-set-difference"


def _seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def prefect(*args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    """One `prefect` CLI call from the repository root (where prefect.yaml lives)."""
    return subprocess.run(
        [*PREFECT, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
def test_a_worker_runs_a_deployment_from_prefect_yaml(
    prefect_server,  # noqa: F811 (the fixture imported above)
    tmp_path,
    world_spec,
):
    env = {
        **prefect_server,
        "CLIPFLOWS_CLIP": world_spec,
        "CLIPFLOWS_CACHE_DIR": str(tmp_path / "cache"),
        "PREFECT_WORKER_QUERY_SECONDS": "2",  # default 10 s between polls
    }
    created = prefect("work-pool", "create", POOL, "--type", "process", env=env)
    assert created.returncode == 0, created.stdout + created.stderr
    deployed = prefect("--no-prompt", "deploy", "--name", "nightly-set-difference", env=env)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    found = prefect("deployment", "inspect", NAME, env=env)
    assert found.returncode == 0, found.stdout + found.stderr
    assert "0 2 * * *" in found.stdout and f"'{POOL}'" in found.stdout, found.stdout

    pair = next(p for p in WORLD_SET_PAIRS if p.name == "red-vs-blue")
    set_a, set_b = write_pair(pair, tmp_path / "sets", count=16)
    out = tmp_path / "out"
    params = {
        "set_a": str(set_a),
        "set_b": str(set_b),
        "llm_proposals": False,
        "extra_hypotheses": [h.model_dump(mode="json") for h in candidate_pool(pair)],
        "output": str(out),
    }
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 (closed below)
    worker = subprocess.Popen(
        [*PREFECT, "worker", "start", "--pool", POOL, "--type", "process"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        start = time.monotonic()
        run = prefect(
            "deployment",
            "run",
            NAME,
            "--params",
            json.dumps(params),
            "--watch",
            "--watch-timeout",
            "300",
            env=env,
            timeout=360,
        )
        print(f"\ntriggered run finished in {time.monotonic() - start:.1f} s")
        assert run.returncode == 0 and "Completed" in run.stdout, (
            run.stdout[-3000:] + run.stderr[-2000:] + (tmp_path / "worker.log").read_text()[-3000:]
        )
        run_id = re.search(r"UUID: ([0-9a-f-]{36})", run.stdout).group(1)
        api = env["PREFECT_API_URL"]
        with urllib.request.urlopen(f"{api}/flow_runs/{run_id}", timeout=10) as response:
            flow_run = json.load(response)
        assert flow_run["state_type"] == "COMPLETED" and flow_run["work_pool_name"] == POOL
        picked_up = _seconds(flow_run["start_time"]) - _seconds(flow_run["created"])
        print(f"worker pickup (created -> running in the worker's subprocess): {picked_up:.1f} s")
        result = json.loads((out / "result.json").read_text())
        assert result["ranking"][0]["auroc"] > 0.9
        assert worker.poll() is None, "the worker should keep polling after a run"
        artifacts = prefect("artifact", "ls", env=env)
        assert artifacts.returncode == 0 and "set-difference" in artifacts.stdout, artifacts.stdout
    finally:
        stop(worker)
        log.close()
