"""The tied temporary server is an adapter for the Prefect releases it was written for."""

from __future__ import annotations

from prefect.server.api.server import SubprocessASGIServer

from clipflows.flows.runtime.temporary_server import (
    tie_temporary_server,
    tied_server_unavailable,
)


def test_the_installed_prefect_is_one_the_tied_server_was_written_for():
    """Fails the day Prefect moves past the release range or drops a hook the adapter uses:
    check the adapter against the new release, then widen WRITTEN_FOR."""
    assert tied_server_unavailable() is None


def test_tying_registers_the_server_prefect_will_start_once(monkeypatch):
    from clipflows.flows.runtime.temporary_server import TiedServer

    monkeypatch.setattr(SubprocessASGIServer, "_instances", {})
    tie_temporary_server()
    tied = SubprocessASGIServer._instances[None]
    assert isinstance(tied, TiedServer) and SubprocessASGIServer() is tied
    tie_temporary_server()
    assert SubprocessASGIServer._instances[None] is tied


def test_another_prefect_release_keeps_prefect_s_own_server_with_one_warning(monkeypatch, caplog):
    monkeypatch.setattr(SubprocessASGIServer, "_instances", {})
    monkeypatch.setattr("importlib.metadata.version", lambda name: "4.0.0")
    with caplog.at_level("WARNING", logger="clipflows.flows.runtime.temporary_server"):
        tie_temporary_server()
    assert SubprocessASGIServer._instances == {}
    (record,) = [r for r in caplog.records if "temporary server" in r.message]
    assert "Prefect 4.0.0 is not a release it was written for" in record.getMessage()
