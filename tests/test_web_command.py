"""`clipflows ui` starts Streamlit with Prefect's analytics off, so the temporary server of the
app's flows does not log a telemetry failure every ten minutes offline (issue 24.4; a value in
the environment wins), and a stop of the command ends the app within a bound (issue 27.8)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
import typer

from clipflows.flows.cli import web


def _started(monkeypatch) -> dict[str, str]:
    seen: dict[str, str] = {}

    def supervise(command, environment):
        seen.update(environment)
        seen["command"] = " ".join(command)
        return 0

    monkeypatch.setattr(web, "supervise", supervise)
    with pytest.raises(typer.Exit):
        web.ui(port=8599, host="127.0.0.1", config=None)
    return seen


def test_the_app_starts_with_prefect_analytics_off(monkeypatch):
    monkeypatch.delenv("PREFECT_SERVER_ANALYTICS_ENABLED", raising=False)
    environment = _started(monkeypatch)
    assert environment["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert (
        f"clipflows.ui.serve {os.getpid()} run" in environment["command"]
        and "--server.port 8599" in environment["command"]
    )
    assert environment["CLIPFLOWS_LLM__MODEL"] == os.environ["CLIPFLOWS_LLM__MODEL"]


def test_the_environment_wins(monkeypatch):
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "true")
    assert _started(monkeypatch)["PREFECT_SERVER_ANALYTICS_ENABLED"] == "true"


# A child that ignores SIGTERM, as Streamlit's process does while a flow's step runs: it writes
# its pid, says it is ready, and would sleep for ten minutes.
STUBBORN = textwrap.dedent(
    """
    import os, signal, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    open(sys.argv[1], "w").write(str(os.getpid()))
    print("ready", flush=True)
    time.sleep(600)
    """
)
SUPERVISOR = textwrap.dedent(
    """
    import os, sys
    from clipflows.flows.cli.web import supervise
    status = supervise([sys.executable, "-c", sys.argv[1], sys.argv[2]], os.environ, grace_s=1)
    print("child ended", status, flush=True)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_stopped_command_kills_an_app_that_will_not_stop(tmp_path):
    pid_file = tmp_path / "child.pid"
    command = [sys.executable, "-c", SUPERVISOR, STUBBORN, str(pid_file)]
    supervisor = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert supervisor.stdout.readline().strip() == "ready"
    child = int(pid_file.read_text())
    supervisor.send_signal(signal.SIGTERM)
    out, _ = supervisor.communicate(timeout=120)  # a hang guard, not a measurement
    assert out.strip() == f"child ended {128 + signal.SIGKILL}"
    assert supervisor.returncode == 0
    assert not _alive(child)


def test_a_child_that_stops_when_asked_gives_its_own_status(tmp_path):
    polite = "import sys, time\nprint('ready', flush=True)\ntime.sleep(600)"
    command = [sys.executable, "-c", SUPERVISOR, polite, str(tmp_path / "unused")]
    supervisor = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert supervisor.stdout.readline().strip() == "ready"
    supervisor.send_signal(signal.SIGTERM)
    out, _ = supervisor.communicate(timeout=120)
    assert out.strip() == f"child ended {128 + signal.SIGTERM}"  # ended by the passed-on signal
