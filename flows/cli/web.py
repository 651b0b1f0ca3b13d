"""The web-app command: start the Streamlit app, and stop it within a bound."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Annotated

import typer

from clipflows.flows.cli.common import ConfigOption, console
from clipflows.flows.cli.common import load_cli_settings as _settings

STOP_GRACE_S = 10.0  # after SIGTERM or Ctrl+C, how long the app may take before it is killed


def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    config: ConfigOption = None,
) -> None:
    """Start the web app (Streamlit) on http://HOST:PORT."""
    import importlib.util

    upload_mb = _settings(config).ui.upload_mb  # the app checks the same limit per file
    app_file = importlib.util.find_spec("clipflows.ui.app").origin  # found, not imported
    command = [
        sys.executable, "-m", "clipflows.ui.serve", str(os.getpid()), "run", str(app_file),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--server.maxUploadSize", str(upload_mb), "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "type",
    ]  # fmt: skip
    console.print(f"clipflows web app on http://{host}:{port} (Ctrl+C stops it)")
    # The app's flows start Prefect's temporary server, which on an offline machine logs a
    # telemetry failure every ten minutes: analytics are off unless the environment says.
    environment = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", **os.environ}
    raise typer.Exit(supervise(command, environment))


def supervise(
    command: list[str], environment: Mapping[str, str], grace_s: float = STOP_GRACE_S
) -> int:
    """Run ``command`` as a child until it ends; returns its exit status.

    SIGTERM or SIGINT to this process is passed on, and a child still running ``grace_s``
    later is killed: Streamlit stops serving at once but its process lives until a running
    flow's current step ends, which can be minutes. The child (``clipflows.ui.serve``)
    watches this process, so a kill of this one, which no handler sees, ends it too."""
    child = subprocess.Popen(command, env=dict(environment))
    deadline: list[float] = []

    def stop(signum: int, _frame: object) -> None:
        child.send_signal(signum)
        deadline[:] = deadline or [time.monotonic() + grace_s]

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while child.poll() is None:
            if deadline and time.monotonic() > deadline[0]:
                child.kill()
            time.sleep(0.2)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return child.returncode if child.returncode >= 0 else 128 - child.returncode


COMMANDS = {"ui": ui}
