"""A real Prefect server, a served deployment, a run triggered from another process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, candidate_pool, write_pair

REPO = Path(__file__).resolve().parents[1]
PREFECT = [sys.executable, "-m", "prefect"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout_s: float = 180) -> float:
    """Seconds until GET url answers 200 (fails if the process dies or time runs out)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        assert process.poll() is None, f"server exited with {process.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} not healthy after {timeout_s} s")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM by PID (serve ignores SIGINT in the background), then kill if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def prefect_server(tmp_path):
    """`prefect server start` on a free port with its own PREFECT_HOME; yields the child env."""
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        seconds = wait_healthy(f"http://127.0.0.1:{port}/api/health", server)
        print(f"\nprefect server healthy in {seconds:.1f} s")
        yield env
    finally:
        stop(server)
        log.close()


@pytest.mark.slow
def test_a_served_deployment_runs_when_triggered_from_another_process(
    prefect_server, tmp_path, world_spec
):
    pair = next(p for p in WORLD_SET_PAIRS if p.name == "red-vs-blue")
    set_a, set_b = write_pair(pair, tmp_path / "sets", count=16)
    out = tmp_path / "out"
    params = {
        "nightly-set-difference": {
            "set_a": str(set_a),
            "set_b": str(set_b),
            "llm_proposals": False,
            "extra_hypotheses": [h.model_dump(mode="json") for h in candidate_pool(pair)],
            "output": str(out),
        }
    }
    env = {
        **prefect_server,
        "CLIPFLOWS_CLIP": world_spec,
        "CLIPFLOWS_CACHE_DIR": str(tmp_path / "cache"),
    }
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 (closed below)
    serve = subprocess.Popen(
        [sys.executable, str(REPO / "deploy/serve.py"), "nightly-set-difference"]
        + ["--params", json.dumps(params)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        name = "set-difference/nightly-set-difference"
        deadline = time.monotonic() + 180  # serve registers the deployment after it imports flows
        while True:
            found = subprocess.run(
                [*PREFECT, "deployment", "inspect", name], env=env, capture_output=True, text=True
            )
            if found.returncode == 0:
                break
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, found.stdout + found.stderr
            time.sleep(2)
        assert "'cron': '0 2 * * *'" in found.stdout or '"cron": "0 2 * * *"' in found.stdout, (
            found.stdout
        )
        start = time.monotonic()
        run = subprocess.run(
            [*PREFECT, "deployment", "run", name, "--watch", "--watch-timeout", "600"],
            env=env,
            capture_output=True,
            text=True,
            timeout=660,
        )
        print(f"triggered run finished in {time.monotonic() - start:.1f} s")
        assert run.returncode == 0, (
            run.stdout[-3000:] + (tmp_path / "serve.log").read_text()[-3000:]
        )
        assert "Completed" in run.stdout, run.stdout[-2000:]
        result = json.loads((out / "result.json").read_text())
        assert result["ranking"][0]["auroc"] > 0.9
        artifacts = subprocess.run(
            [*PREFECT, "artifact", "ls"], env=env, capture_output=True, text=True
        )
        assert artifacts.returncode == 0 and "set-difference" in artifacts.stdout, artifacts.stdout
    finally:
        stop(serve)
        log.close()
