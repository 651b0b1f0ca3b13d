"""Signals: `clipflows ui` stops serving on SIGTERM or when it is killed, and a killed process
leaves no temporary Prefect server behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _wait(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return condition()


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that will not reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@contextmanager
def serving_ui(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """``clipflows ui`` on a free port, once its app answers: the command and its health URL."""
    port = _free_port()
    env = {**os.environ, "CLIPFLOWS_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "clipflows.flows.cli", "ui", "--port", str(port)]
    ui = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    health = f"http://127.0.0.1:{port}/_stcore/health"
    try:
        assert _wait(lambda: _answers(health), 120), "the app did not start"
        yield ui, health
    finally:
        ui.kill()
        ui.wait()


def test_sigterm_to_clipflows_ui_stops_the_app(tmp_path):
    with serving_ui(tmp_path) as (ui, health):
        ui.send_signal(signal.SIGTERM)  # what a service manager sends
        ui.wait(timeout=30)
        assert _wait(lambda: not _answers(health), 15), "the app still serves after SIGTERM"


def test_a_killed_clipflows_ui_leaves_no_app_serving(tmp_path):
    with serving_ui(tmp_path) as (ui, health):
        ui.kill()  # SIGKILL: no handler of the command runs; the app watches it
        ui.wait()
        assert _wait(lambda: not _answers(health), 30), "the app still serves"


def test_a_killed_process_leaves_no_temporary_prefect_server(tmp_path):
    script = textwrap.dedent(
        """
        import sys, time
        from clipflows.flows.runtime.temporary_server import tie_temporary_server
        from prefect.server.api.server import SubprocessASGIServer

        tie_temporary_server()  # as the CLI (before flows run) and the web app do
        server = SubprocessASGIServer()  # what Prefect asks for when a flow runs
        server.start(timeout=180)
        print(server.server_process.pid, server.port, flush=True)
        time.sleep(600)
        """
    )
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    command = [sys.executable, "-c", script]
    parent = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    server_pid = None
    try:
        server_pid, port = (int(word) for word in parent.stdout.readline().split())
        health = f"http://127.0.0.1:{port}/api/health"
        assert _answers(health)
        parent.kill()  # SIGKILL: no atexit, no cleanup in the parent
        parent.wait()
        assert _wait(lambda: not _alive(server_pid), 20), "the server outlived its parent"
        assert not _answers(health)
    finally:
        parent.kill()
        if server_pid and _alive(server_pid):
            os.kill(server_pid, signal.SIGKILL)
