"""`clipflows ui` starts Streamlit in its own place with Prefect's analytics off, so the
temporary server of the app's flows does not log a telemetry failure every ten minutes offline
(issue 24.4); a value in the environment wins."""

from __future__ import annotations

import os

import pytest

from clipflows.flows.cli import web


class Replaced(Exception):
    """What the fake execve raises instead of replacing the test process."""


def _started(monkeypatch) -> dict[str, str]:
    seen: dict[str, str] = {}

    def execve(path, command, environment):
        seen.update(environment)
        seen["command"] = " ".join(command)
        raise Replaced

    monkeypatch.setattr(os, "execve", execve)
    with pytest.raises(Replaced):
        web.ui(port=8599, host="127.0.0.1", config=None)
    return seen


def test_the_app_starts_with_prefect_analytics_off(monkeypatch):
    monkeypatch.delenv("PREFECT_SERVER_ANALYTICS_ENABLED", raising=False)
    environment = _started(monkeypatch)
    assert environment["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert (
        "streamlit run" in environment["command"] and "--server.port 8599" in environment["command"]
    )
    assert environment["CLIPFLOWS_LLM__MODEL"] == os.environ["CLIPFLOWS_LLM__MODEL"]


def test_the_environment_wins(monkeypatch):
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "true")
    assert _started(monkeypatch)["PREFECT_SERVER_ANALYTICS_ENABLED"] == "true"
