"""The LLM layer on the real embedded SmolLM2-135M: structure and plumbing, not its wisdom."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import HTTPServer
from pathlib import Path
from typing import Annotated, Any

import pytest
from llm_files import smollm2_gguf
from pydantic import BaseModel, Field, StringConstraints, ValidationError, field_validator

from clipflows.agents.embedded import default_threads, others_busy_cpus
from clipflows.agents.llm import (
    LLM,
    LLMOutputError,
    LLMUnavailableError,
    create_llm,
    normalise_messages,
)
from clipflows.agents.schemas import UnboundedSchemaError, json_schema_of, unbounded_fields
from clipflows.components.errors import ClipflowsError
from clipflows.components.settings import Settings

Short = Annotated[str, StringConstraints(max_length=20)]
PROMPT = [("system", "You answer in JSON."), ("user", "Name three colours.")]


class Colours(BaseModel):
    colours: list[Short] = Field(max_length=3)


class Never(BaseModel):
    """Bounded, but no answer can pass its validator."""

    word: Short

    @field_validator("word")
    @classmethod
    def _reject(cls, value: str) -> str:
        raise ValueError("this schema accepts nothing")


def make_llm(tmp_path: Path, **llm: Any) -> LLM:
    """An LLM with a cache under tmp_path; embedded, short answers and one retry by default."""
    return create_llm(Settings(cache_dir=tmp_path, llm={"max_tokens": 64, "max_retries": 1, **llm}))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_create_llm_loads_no_model(tmp_path: Path) -> None:
    llm = make_llm(tmp_path)
    assert llm.identity.startswith("embedded:smollm2-135m@b179c9523d0e")
    assert llm.chat_model._llama is None
    assert llm.calls == 0


def test_importing_agents_loads_no_model_library() -> None:
    modules = ", ".join(
        f"clipflows.agents.{name}" for name in ("llm", "embedded", "vllm_inprocess")
    )
    code = f"import sys, {modules}; print('llama_cpp' in sys.modules, 'vllm' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_bounded_schema_comes_back_validated(tmp_path: Path) -> None:
    llm = make_llm(tmp_path)
    answer = llm.ask_structured(PROMPT, Colours)
    assert isinstance(answer, Colours)
    assert 0 < len(answer.colours) <= 3
    assert all(len(colour) <= 20 for colour in answer.colours)
    assert llm.calls == 1


def test_repeat_call_hits_the_persistent_cache(tmp_path: Path) -> None:
    first = make_llm(tmp_path)
    answer = first.ask_structured(PROMPT, Colours)
    assert first.ask_structured(PROMPT, Colours) == answer
    assert first.calls == 1
    # Another LLM object (as in another process) on the same cache directory asks nothing either.
    second = make_llm(tmp_path)
    assert second.ask_structured(PROMPT, Colours) == answer
    assert second.calls == 0
    assert second.chat_model._llama is None
    # The time and tokens the demo reports count real answers only.
    assert first.chat_model.busy_seconds > 0 and first.chat_model.generated_tokens > 0
    assert (second.chat_model.busy_seconds, second.chat_model.generated_tokens) == (0.0, 0)


def test_cache_key_covers_sampling_and_schema(tmp_path: Path) -> None:
    llm = make_llm(tmp_path)
    llm.ask_structured(PROMPT, Colours)
    hotter = make_llm(tmp_path, temperature=0.5)
    hotter.ask_structured(PROMPT, Colours)
    assert hotter.calls == 1
    text = llm.ask_text(PROMPT)
    assert isinstance(text, str) and text
    assert llm.calls == 2
    assert llm.ask_text(PROMPT) == text
    assert llm.calls == 2


def test_message_forms_are_normalised_alike(tmp_path: Path) -> None:
    llm = make_llm(tmp_path)
    as_dicts = [{"role": role, "content": content} for role, content in PROMPT]
    keys = {
        llm.cache_key(normalise_messages(form), None)
        for form in (PROMPT, as_dicts, normalise_messages(PROMPT))
    }
    assert len(keys) == 1
    assert [m.type for m in normalise_messages("hello")] == ["human"]


def test_unbounded_schema_is_rejected_before_any_call(tmp_path: Path) -> None:
    class Notes(BaseModel):
        title: str
        tags: list[Short]

    llm = make_llm(tmp_path)
    with pytest.raises(UnboundedSchemaError, match="Notes") as caught:
        llm.ask_structured(PROMPT, Notes)
    assert "title (str without max_length)" in str(caught.value)
    assert "tags (list without max_length)" in str(caught.value)
    assert llm.calls == 0


def test_unbounded_fields_follows_nested_models_optionals_and_dicts() -> None:
    class Item(BaseModel):
        name: str
        score: int

    class Basket(BaseModel):
        items: list[Item] = Field(max_length=2)
        note: str | None = Field(default=None, max_length=10)
        counts: dict[Short, int]
        kind: str = Field(default="a", json_schema_extra={"enum": ["a", "b"]})

    assert unbounded_fields(Basket) == [
        "items[].name (str without max_length)",
        "counts (dict without max_length)",
    ]
    assert unbounded_fields(Colours) == []


def test_never_valid_answer_raises_after_max_retries_plus_one_calls(tmp_path: Path) -> None:
    llm = make_llm(tmp_path, max_retries=2)
    with pytest.raises(LLMOutputError) as caught:
        llm.ask_structured([("user", "Give one word.")], Never)
    error = caught.value
    assert isinstance(error, ClipflowsError)
    assert llm.calls == 3
    assert error.schema_name == "Never" and error.attempts == 3
    assert error.raw.lstrip().startswith("{")
    assert "accepts nothing" in str(error)
    assert len(llm.cache) == 0  # invalid answers are never cached


def test_a_remembered_failure_fails_again_without_a_call(tmp_path: Path) -> None:
    llm = make_llm(tmp_path, max_retries=1)
    with pytest.raises(LLMOutputError):
        llm.ask_structured([("user", "Give one word.")], Never, remember_failure=True)
    assert llm.calls == 2
    again = make_llm(tmp_path, max_retries=1)
    with pytest.raises(LLMOutputError, match="accepts nothing") as caught:
        again.ask_structured([("user", "Give one word.")], Never, remember_failure=True)
    assert again.calls == 0 and caught.value.attempts == 2
    with pytest.raises(LLMOutputError):  # without the flag, the model is asked again
        again.ask_structured([("user", "Give one word.")], Never)
    assert again.calls == 2


def test_dead_server_gives_one_clear_error_naming_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    llm = make_llm(tmp_path, backend="openai-compatible", base_url=url, model="any", timeout_s=5)
    with pytest.raises(LLMUnavailableError, match=url):
        llm.ask_structured(PROMPT, Colours)


def test_openai_compatible_needs_a_model_name(tmp_path: Path) -> None:
    with pytest.raises(LLMUnavailableError, match="CLIPFLOWS_LLM__MODEL"):
        make_llm(tmp_path, backend="openai-compatible", model=None)


def test_a_dead_server_without_a_model_name_is_reported_as_dead_first(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(LLMUnavailableError) as caught:
        make_llm(tmp_path, backend="openai-compatible", base_url=url, model=None)
    message = str(caught.value)
    assert message.startswith(f"No OpenAI-compatible LLM server answered at {url}"), message
    assert "CLIPFLOWS_LLM__MODEL" in message


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed")
def test_vllm_backend_without_vllm_says_how_to_install(tmp_path: Path) -> None:
    llm = make_llm(tmp_path, backend="vllm", model="some/model")  # building it imports nothing
    with pytest.raises(LLMUnavailableError, match=r"pip install 'clipflows\[vllm\]'"):
        llm.ask_text(PROMPT)


@pytest.mark.parametrize("mode", ["json_schema", "json_object"])
def test_openai_compatible_sends_schema_and_validates(
    tmp_path: Path, tiny_server: HTTPServer, mode: str
) -> None:
    url = f"http://127.0.0.1:{tiny_server.server_port}/v1"
    llm = make_llm(
        tmp_path, backend="openai-compatible", base_url=url, model="smollm2", structured_output=mode
    )
    answer = llm.ask_structured(PROMPT, Colours)
    assert isinstance(answer, Colours) and llm.calls == 1
    sent = tiny_server.requests[-1]
    assert sent["response_format"]["type"] == mode
    assert json_schema_of(sent["response_format"]) == Colours.model_json_schema()
    assert sent["max_tokens"] == 64 and sent["model"] == "smollm2"
    assert llm.ask_structured(PROMPT, Colours) == answer and llm.calls == 1


def test_openai_compatible_truncated_answer_is_retried_then_reported(
    tmp_path: Path, tiny_server: HTTPServer
) -> None:
    url = f"http://127.0.0.1:{tiny_server.server_port}/v1"
    llm = make_llm(
        tmp_path, backend="openai-compatible", base_url=url, model="smollm2", max_tokens=3
    )
    with pytest.raises(LLMOutputError) as caught:
        llm.ask_structured(PROMPT, Colours)
    assert llm.calls == 2 and caught.value.raw.lstrip().startswith("{")


@pytest.fixture
def llama_cpp_server(tmp_path: Path) -> Iterator[str]:
    """llama-cpp-python's own OpenAI server as a subprocess; yields its base URL."""
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError as exc:  # its extras come with clipflows' deploy extra, which make installs
        pytest.fail(f"llama_cpp.server cannot run here: {exc}; pip install 'clipflows[deploy]'")
    port, threads = free_port(), str(default_threads())
    log = (tmp_path / "server.log").open("w")
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf())]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    command += ["--n_threads", threads, "--n_threads_batch", threads]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = (tmp_path / "server.log").read_text()
                    pytest.fail(f"llama_cpp.server never became ready:\n{output}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_openai_compatible_against_llama_cpp_server(tmp_path: Path, llama_cpp_server: str) -> None:
    llm = make_llm(
        tmp_path,
        backend="openai-compatible",
        base_url=llama_cpp_server,
        model="smollm2",
        structured_output="json_object",
    )
    answer = llm.ask_structured(PROMPT, Colours)
    assert isinstance(answer, Colours) and 0 < len(answer.colours) <= 3


def test_raw_newlines_inside_json_strings_are_accepted() -> None:
    from clipflows.agents.llm import _validate

    class Line(BaseModel):
        text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]

    assert _validate(Line, '{"text": "two\nlines\t"}').text == "two\nlines"
    with pytest.raises(ValidationError):
        _validate(Line, "not json at all")


@pytest.mark.parametrize(
    ("cpus", "busy", "threads"),
    [(2, 0.1, 2), (2, 1.2, 1), (2, 6.0, 1), (16, 3.0, 13), (16, 15.0, 8), (1, 0.0, 1)],
)
def test_the_embedded_llm_takes_the_idle_cpus_and_at_least_half(monkeypatch, cpus, busy, threads):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    monkeypatch.setattr("clipflows.agents.embedded.others_busy_cpus", lambda: busy)
    assert default_threads() == threads


def test_other_processes_busy_cpus_leave_out_this_process_own_work():
    """A thread of this process spinning is not another process's load."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            pass

    quiet = others_busy_cpus(window_s=0.5)
    worker = threading.Thread(target=spin)
    worker.start()
    try:
        spinning = others_busy_cpus(window_s=0.5)
    finally:
        stop.set()
        worker.join()
    # Counted as another process's, the spinning thread would add a whole CPU.
    assert spinning < quiet + 0.6, (quiet, spinning)


def test_the_time_split_counts_what_llama_cpp_evaluated_and_generated(tmp_path: Path) -> None:
    llm = make_llm(tmp_path)
    chat = llm.chat_model
    llm.ask_text([("system", "You name colours."), ("human", "Name a colour.")])
    first = chat.time_split
    # llama.cpp decodes every generated token but the last (the end of the answer).
    assert first.calls == 1 and 0 < first.generated_tokens == chat.generated_tokens - 1
    assert 0.9 * chat.prompt_tokens <= first.prompt_tokens <= chat.prompt_tokens  # little reused
    assert first.prompt_seconds > 0 and first.generation_seconds > 0
    assert first.busy_seconds >= first.prompt_seconds + first.generation_seconds
    llm.ask_text([("system", "You name colours."), ("human", "Name another colour.")])
    second = chat.time_split - first
    # The shared system message is reused, not evaluated again; the usage counts all of it.
    assert second.calls == 1 and 0 < second.prompt_tokens < chat.prompt_tokens - first.prompt_tokens
