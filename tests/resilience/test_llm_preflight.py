"""The LLM pre-flight checks (``require_llm_server``, ``llm_status``) against a server that
trickles its ``/models`` answer: each gives up at its overall deadline, never waits it out."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from clipflows.agents.health import llm_status, require_llm_server
from clipflows.components.settings import LLMSettings


class Trickling(BaseHTTPRequestHandler):
    """Headers for a long body, then a byte every 0.1 s: a per-read timeout never fires. Stops
    by itself after 100 bytes (10 s), or when the client hangs up, and says which it was."""

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
            self.server.outcome = "sent it all"
        except OSError:
            self.server.outcome = "the client hung up"
        finally:
            self.server.done.set()


@pytest.fixture
def trickling() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Trickling)
    httpd.outcome, httpd.done = None, threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def settings_for(server: ThreadingHTTPServer) -> LLMSettings:
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    return LLMSettings(backend="openai-compatible", base_url=url, model="m", timeout_s=0.5)


def test_the_pre_flight_check_gives_up_on_a_trickling_server_at_the_llm_s_deadline(trickling):
    require_llm_server(settings_for(trickling))  # something answers there: it passes
    trickling.done.wait(30)
    assert trickling.outcome == "the client hung up"


def test_the_llm_status_gives_up_on_a_trickling_server(trickling):
    status = llm_status(settings_for(trickling), timeout_s=5.0)
    trickling.done.wait(30)
    assert trickling.outcome == "the client hung up"
    assert not status.ok and "Timeout" in status.detail
