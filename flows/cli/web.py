"""The web-app command: start the Streamlit app."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from clipflows.flows.cli.common import ConfigOption, console
from clipflows.flows.cli.common import load_cli_settings as _settings


def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    config: ConfigOption = None,
) -> None:
    """Start the web app (Streamlit) on http://HOST:PORT."""
    import importlib.util
    import os

    upload_mb = _settings(config).ui.upload_mb  # the app checks the same limit per file
    app_file = importlib.util.find_spec("clipflows.ui.app").origin  # found, not imported
    command = [
        sys.executable, "-m", "streamlit", "run", str(app_file),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--server.maxUploadSize", str(upload_mb), "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "type",
    ]  # fmt: skip
    console.print(f"clipflows web app on http://{host}:{port} (Ctrl+C stops it)")
    sys.stdout.flush()
    sys.stderr.flush()
    # Streamlit takes this process's place (same pid), so a service manager's SIGTERM or a
    # kill reaches the server itself: no parent is left to die while the app keeps serving.
    # The app's flows start Prefect's temporary server, which on an offline machine logs a
    # telemetry failure every ten minutes: analytics are off unless the environment says.
    environment = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", **os.environ}
    os.execve(sys.executable, command, environment)


COMMANDS = {"ui": ui}
