"""An HTTP transport that gives each request one overall deadline.

httpx's timeouts count per phase and per read, so a server that sends a byte every few seconds
is never cut off. Here every socket operation of a request (connect, TLS, each read and write)
waits at most until the request's deadline, so a request fails within ``seconds`` whatever the
server does. The openai SDK uses httpx2 (and httpcore2) underneath; this plugs into both.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

import httpcore2
import httpx2

# The deadline of the request this thread is sending (set per request, read by its socket calls).
_DEADLINE: ContextVar[float | None] = ContextVar("clipflows_http_deadline", default=None)


def _bounded(timeout: float | None) -> float | None:
    """``timeout`` shortened to what is left before the current request's deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore2.ReadTimeout("the request's overall deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout=None):
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore2.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = self._inner.connect_tcp(
            host, port, _bounded(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _DeadlineStream(
            self._inner.connect_unix_socket(path, _bounded(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineTransport(httpx2.HTTPTransport):
    """httpx2's transport (no proxy) where each request must finish within ``seconds``."""

    def __init__(self, seconds: float, limits: httpx2.Limits | None = None):
        super().__init__()
        limits = limits or httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
        self.seconds = seconds
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(),
        )

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        # Left set after returning: the caller reads the body next, in this thread, under the
        # same deadline; the next request through this transport sets its own.
        _DEADLINE.set(time.monotonic() + self.seconds)
        return super().handle_request(request)


def deadline_client(seconds: float) -> httpx2.Client:
    """An HTTP client for the openai SDK whose every request ends within ``seconds``."""
    return httpx2.Client(
        transport=DeadlineTransport(seconds), timeout=seconds, follow_redirects=True
    )
