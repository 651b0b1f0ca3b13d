"""A test guard that fails any attempt to open a network connection, so "fails fast offline"
is asserted as behaviour (nothing was dialled) instead of as a wall-clock bound."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


class NetworkAttempted(AssertionError):
    """Code under a ``no_network`` guard tried to connect somewhere."""


@contextmanager
def no_network(monkeypatch: pytest.MonkeyPatch, *, unreachable: bool = False) -> Iterator[None]:
    """Inside the block any socket connect or name lookup raises ``NetworkAttempted``; with
    ``unreachable``, the ``ConnectionRefusedError`` a machine without network gives, at once."""

    def refuse(*args: object, **kwargs: object) -> None:
        if unreachable:
            raise ConnectionRefusedError("no network (test guard)")
        raise NetworkAttempted(f"network access attempted: {args[1:] or args}")

    with monkeypatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield
