"""The temporary Prefect server dies with the process that started it, even a killed one.

Without a Prefect server configured (``PREFECT_API_URL``), Prefect starts a temporary one as a
child process and stops it when its parent exits normally. A parent killed with SIGKILL (or by
the OOM killer) stops nothing, and the server kept running, one more per killed command.

``tie_temporary_server()`` makes the server Prefect starts in this process a ``TiedServer``: it
runs uvicorn through this module, whose ``main`` first starts a thread that watches its parent
and stops the server once the parent is gone (its parent pid changes). It watches the pid it was
given, not "parent is init", so a server whose parent is alive never stops itself.
Prefect keeps one temporary server per process, under ``SubprocessASGIServer._instances[None]``;
registering ours there is how Prefect's own test harness hands flows its server too. Prefect's
server module takes seconds to import, so a command that runs no flow never imports it: ours is
registered when Prefect imports that module to start a server.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from types import ModuleType

WATCH_EVERY_S = 0.5
GRACE_S = 10.0  # for uvicorn's own shutdown after SIGTERM, then the process ends anyway


SERVER_MODULE = "prefect.server.api.server"


def tie_temporary_server() -> None:
    """Make the temporary server this process may start stop when this process dies. Call at
    start-up, before any flow runs (the CLI and the web app do); cheap, and calling it again
    does nothing. A server already chosen (a test harness's, one that runs) is left as it is."""
    if SERVER_MODULE in sys.modules:
        _register(sys.modules[SERVER_MODULE])
    elif not any(isinstance(f, _AfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport(SERVER_MODULE, _register))


def _register(module: ModuleType) -> None:
    if None not in module.SubprocessASGIServer._instances:
        _tied_server_class()()  # registered under None: SubprocessASGIServer() now returns it


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls ``then(module)`` once module ``name`` has been imported (by anyone), then leaves."""

    def __init__(self, name: str, then: Callable[[ModuleType], None]):
        self.name, self.then = name, then

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # the regular finders find the module itself
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        load = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            self.then(module)

        spec.loader.exec_module = exec_module  # this spec's own loader object
        return spec


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


def watch_parent(parent: int, every_s: float = WATCH_EVERY_S) -> None:
    """Block until this process's parent is no longer ``parent``, then stop this process:
    SIGTERM first (uvicorn shuts down cleanly), and exit after ``GRACE_S`` if that hangs."""
    while os.getppid() == parent:
        time.sleep(every_s)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_S)
    os._exit(1)


def main(argv: list[str]) -> None:
    """``python -m clipflows.flows.runtime.temporary_server PARENT_PID UVICORN_ARGS...``"""
    parent = int(argv[0])
    if os.getppid() != parent:  # the parent died before we got here
        sys.exit(1)
    threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()
    from uvicorn.main import main as uvicorn

    uvicorn(argv[1:], prog_name="uvicorn")


if __name__ == "__main__":
    main(sys.argv[1:])
