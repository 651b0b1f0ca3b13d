"""LLM server faults, against a real HTTP server on 127.0.0.1 that misbehaves on purpose."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel, Field, StringConstraints

from clipflows.agents.llm import LLMOutputError, LLMUnavailableError, create_llm
from clipflows.components.settings import LLMSettings, Settings

PROMPT = [("user", "Name a colour.")]


class Colour(BaseModel):
    colours: list[Annotated[str, StringConstraints(max_length=20)]] = Field(
        min_length=1, max_length=3
    )


def completion(content: str) -> bytes:
    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": content},
                }
            ],
        }
    ).encode()


class Misbehaving(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions according to the server's ``mode``."""

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        server = self.server
        server.requests += 1
        mode = server.mode
        if mode == "flaky" and server.requests <= 2:
            mode = "500"
        if mode == "slow":
            time.sleep(3)
        if mode in ("trickle", "silent"):
            self.misbehave(mode)
            return
        status, body = {
            "500": (500, b'{"error": {"message": "boom"}}'),
            "garbage": (200, b"<html>not json</html>"),
            "bad-content": (200, completion("{this is not json")),
        }.get(mode, (200, completion('{"colours": ["red"]}')))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the client gave up (timeout test)
            self.wfile.write(body)

    def misbehave(self, mode: str) -> None:
        """'trickle': headers, then a byte every 0.2 s; 'silent': no answer at all. Each stops
        by itself after 12 s, or when the client hangs up."""
        if mode == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
        for _ in range(60):
            try:
                if mode == "trickle":
                    self.wfile.write(b" ")
                    self.wfile.flush()
            except OSError:  # the client gave up
                return
            time.sleep(0.2)


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    httpd.mode, httpd.requests = "ok", 0
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


def llm_for(url: str, tmp_path: Path, **fields):
    config = LLMSettings(backend="openai-compatible", base_url=url, model="m", **fields)
    return create_llm(Settings(cache_dir=tmp_path / "cache", llm=config), use_cache=False)


def url_of(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def test_http_500_is_retried_with_backoff_then_one_clear_error(server, tmp_path):
    server.mode = "500"
    llm = llm_for(url_of(server), tmp_path, request_retries=2)
    with pytest.raises(LLMUnavailableError, match=r"HTTP 500 \(3 tries\)") as caught:
        llm.ask_structured(PROMPT, Colour)
    assert url_of(server) in str(caught.value)
    assert server.requests == 3


def test_a_flaky_server_recovers_within_the_retries(server, tmp_path):
    server.mode = "flaky"  # two 500s, then a good answer
    assert llm_for(url_of(server), tmp_path).ask_structured(PROMPT, Colour).colours == ["red"]
    assert server.requests == 3


def test_a_slow_server_times_out_with_a_clear_error(server, tmp_path):
    server.mode = "slow"
    llm = llm_for(url_of(server), tmp_path, timeout_s=0.5, request_retries=1)
    with pytest.raises(LLMUnavailableError, match="did not answer within 0.5 s"):
        llm.ask_structured(PROMPT, Colour)
    assert server.requests == 2  # the first try and its one retry, each cut off


def test_a_body_that_is_not_json_is_a_clear_error(server, tmp_path):
    server.mode = "garbage"
    with pytest.raises(LLMUnavailableError, match="not an OpenAI chat completion"):
        llm_for(url_of(server), tmp_path, request_retries=0).ask_structured(PROMPT, Colour)


def test_invalid_json_content_is_re_asked_then_reported(server, tmp_path):
    server.mode = "bad-content"
    llm = llm_for(url_of(server), tmp_path, max_retries=2)
    with pytest.raises(LLMOutputError) as caught:
        llm.ask_structured(PROMPT, Colour)
    assert server.requests == 3 and caught.value.raw == "{this is not json"


def test_a_dead_server_is_one_clear_error(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(LLMUnavailableError, match="No OpenAI-compatible LLM server answered") as e:
        llm_for(url, tmp_path, request_retries=1).ask_structured(PROMPT, Colour)
    assert url in str(e.value)


def test_a_server_trickling_bytes_is_cut_off_at_the_request_deadline(server, tmp_path):
    server.mode = "trickle"  # a byte every 0.2 s: a per-read timeout of 1 s never fires
    llm = llm_for(url_of(server), tmp_path, timeout_s=1.0, request_retries=0)
    with pytest.raises(LLMUnavailableError, match="did not answer within 1.0 s"):
        llm.ask_structured(PROMPT, Colour)
    assert server.requests == 1  # cut off at the deadline, not retried


def test_a_server_that_never_answers_fails_within_the_bound_its_message_states(
    server, tmp_path, prefect_harness
):
    import re

    from clipflows.agents.proposer import ProposalRequest
    from clipflows.flows.set_difference import propose_task

    server.mode = "silent"
    llm = LLMSettings(
        backend="openai-compatible",
        base_url=url_of(server),
        model="m",
        timeout_s=0.5,
        request_retries=1,
    )
    settings = Settings(cache_dir=tmp_path / "cache", llm=llm)
    request = ProposalRequest(round=0, captions_a=["a red circle"], captions_b=["a blue square"])
    with pytest.raises(LLMUnavailableError) as caught:
        propose_task(settings, request)  # a Prefect task with retries=1
    # Counted once: the client's 2 tries, not 2 more for the task's retry.
    assert server.requests == 2
    bound = float(re.search(r"at most ([0-9.]+) s in all", str(caught.value)).group(1))
    assert bound < 2.5, str(caught.value)
