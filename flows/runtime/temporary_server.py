"""The temporary Prefect server dies with the process that started it, even a killed one.

Without a Prefect server configured (``PREFECT_API_URL``), Prefect starts a temporary one as a
child process and stops it when its parent exits normally. A parent killed with SIGKILL (or by
the OOM killer) stops nothing, and the server kept running, one more per killed command.

``tie_temporary_server()`` makes the server Prefect starts in this process a ``TiedServer``: it
runs uvicorn through this module, whose ``main`` first starts a thread that watches its parent
and stops the server once the parent is gone (``parent_watch``).

Prefect has no public way to choose its temporary server, so this is an adapter for the Prefect
releases it was written for (:data:`WRITTEN_FOR`): it subclasses ``SubprocessASGIServer``,
overrides ``_run_uvicorn_command`` and registers the instance in ``_instances[None]``, where
Prefect's own test harness puts its server too. On another release, or without those hooks,
Prefect's own server runs (untied) with one warning, and ``tests/test_temporary_server.py``
fails until the adapter is checked against the release. Call it where flows are about to run
(the CLI's ``flow_session``, the web app): Prefect's server module takes seconds to import.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import subprocess
import sys

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from clipflows.flows.runtime.parent_watch import start_parent_watch

# The Prefect releases this adapter was written for and tested with (3.9.1 here).
WRITTEN_FOR = SpecifierSet(">=3.4,<4")
log = logging.getLogger(__name__)


def tied_server_unavailable() -> str | None:
    """Why the installed Prefect cannot take the tied server, or None."""
    from prefect.server.api.server import SubprocessASGIServer

    version = importlib.metadata.version("prefect")
    if Version(version) not in WRITTEN_FOR:
        return f"Prefect {version} is not a release it was written for ({WRITTEN_FOR})"
    hooks = {
        "SubprocessASGIServer._instances": isinstance(
            getattr(SubprocessASGIServer, "_instances", None), dict
        ),
        "SubprocessASGIServer._run_uvicorn_command": hasattr(
            SubprocessASGIServer, "_run_uvicorn_command"
        ),
    }
    missing = [name for name, present in hooks.items() if not present]
    return f"Prefect {version} lacks {', '.join(missing)}" if missing else None


def tie_temporary_server() -> None:
    """Make the temporary server this process may start stop when this process dies. Call
    before flows run; calling it again does nothing. A server already chosen (a test harness's,
    one that runs) is left as it is."""
    from prefect.server.api.server import SubprocessASGIServer

    reason = tied_server_unavailable()
    if reason is not None:
        log.warning("A killed run may leave Prefect's temporary server running: %s", reason)
        return
    if None not in SubprocessASGIServer._instances:
        _tied_server_class()()  # registered under None: SubprocessASGIServer() now returns it


@functools.cache
def _tied_server_class() -> type:
    from prefect.server.api.server import SubprocessASGIServer

    class TiedServer(SubprocessASGIServer):
        """Prefect's temporary server, started through this module's parent watch."""

        def _run_uvicorn_command(self) -> subprocess.Popen:
            import prefect
            from prefect.settings import get_current_settings

            return subprocess.Popen(
                args=[
                    sys.executable,
                    "-m",
                    __name__,
                    str(os.getpid()),
                    "--app-dir",
                    str(prefect.__module_path__.parent),
                    "--factory",
                    "prefect.server.api.server:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "error",
                    "--lifespan",
                    "on",
                ],  # fmt: skip
                env={  # as Prefect starts it (prefect.server.api.server.SubprocessASGIServer)
                    **os.environ,
                    "PREFECT_UI_ENABLED": "0",
                    "PREFECT__SERVER_EPHEMERAL": "1",
                    "PREFECT__SERVER_FINAL": "1",
                    **get_current_settings().to_environment_variables(exclude_unset=True),
                },
            )

    return TiedServer


def __getattr__(name: str):
    if name == "TiedServer":  # built on first use: importing this module imports no Prefect
        return _tied_server_class()
    raise AttributeError(name)


def main(argv: list[str]) -> None:
    """``python -m clipflows.flows.runtime.temporary_server PARENT_PID UVICORN_ARGS...``"""
    if not start_parent_watch(int(argv[0])):  # the parent died before we got here
        sys.exit(1)
    from uvicorn.main import main as uvicorn

    uvicorn(argv[1:], prog_name="uvicorn")


if __name__ == "__main__":
    main(sys.argv[1:])
