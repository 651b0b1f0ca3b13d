"""The offline LLM: llama.cpp in this process, running a registered GGUF model (see
``llm_registry``) or any chat GGUF file, with fast schema-constrained greedy decoding."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel, PrivateAttr

from clipflows.components.errors import MissingWeightsError
from clipflows.components.settings import LLMSettings

from .llama_sampling import fast_grammar_llama
from .llm import openai_messages
from .llm_registry import DEFAULT_LLM, llm_registry, locate_llm
from .schemas import json_schema_of


def resolve_gguf(settings: LLMSettings) -> tuple[Path, str]:
    """The GGUF file ``settings.model`` names, and a name for cache keys: a registered model
    (its file checked by sha256; unset means DEFAULT_LLM) or the path of any chat GGUF file."""
    name = settings.model or DEFAULT_LLM
    registry = llm_registry()
    if name in registry:
        entry = registry[name]
        return locate_llm(entry, settings.models_dir), f"{entry.name}@{entry.sha256[:12]}"
    path = Path(name).expanduser()
    if not path.is_file():
        raise MissingWeightsError(
            f"llm.model is {name!r}: neither a registered LLM ({', '.join(registry)}) nor a "
            "GGUF file on this machine. Give one of those names or a path to a chat GGUF file."
        )
    return path, path.name


def others_busy_cpus(window_s: float = 0.25) -> float:
    """CPUs other processes keep busy, measured over ``window_s``: the machine's busy time less
    this process's own. A load average would count this process's recent work and lag a minute
    behind (issue 26: a model loaded after another model's run saw its own load and took one
    thread of two)."""
    own = psutil.Process()
    machine_before, own_before = psutil.cpu_times(), own.cpu_times()
    time.sleep(window_s)
    machine_after, own_after = psutil.cpu_times(), own.cpu_times()

    def busy(times: Any) -> float:
        # Waiting for disk and time the hypervisor gave other machines are not busy CPUs here.
        return (
            sum(times) - times.idle - getattr(times, "iowait", 0.0) - getattr(times, "steal", 0.0)
        )

    machine = busy(machine_after) - busy(machine_before)
    mine = (own_after.user + own_after.system) - (own_before.user + own_before.system)
    return max(0.0, (machine - mine) / window_s)


def default_threads() -> int:
    """The CPUs this process may use that other processes leave idle when the model loads, and
    never fewer than half of them.

    llama.cpp's own default for prompt batches is every CPU; on a busy 2-core box that made a
    40-token prompt take ~40 s instead of ~0.3 s, because its threads spin-wait for each other.
    A fixed half wasted a quiet machine: there two threads parse a judge hypothesis in about
    half the time of one (issue 26).
    """
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere count every CPU
    cpus = len(affinity(0)) if affinity else os.cpu_count() or 1
    return max(1, cpus // 2, min(cpus, int(cpus - others_busy_cpus() + 0.5)))


class LlamaTime(BaseModel):
    """Where an embedded model's answering time went, from llama.cpp's own counters: prompt
    tokens it evaluated (a prefix reused from the call before is not evaluated again) and the
    generated tokens it decoded (all but the last of each answer), with the seconds of each; the
    rest of ``busy_seconds`` is sampling, grammar and the Python around them (issue 26's
    question: prompt or generation?)."""

    calls: int = 0
    busy_seconds: float = 0.0
    prompt_tokens: int = 0
    prompt_seconds: float = 0.0
    generated_tokens: int = 0
    generation_seconds: float = 0.0

    def __sub__(self, earlier: LlamaTime) -> LlamaTime:
        return LlamaTime(**{
            name: getattr(self, name) - getattr(earlier, name) for name in LlamaTime.model_fields
        })  # fmt: skip

    def __add__(self, other: LlamaTime) -> LlamaTime:
        return LlamaTime(**{
            name: getattr(self, name) + getattr(other, name) for name in LlamaTime.model_fields
        })  # fmt: skip


def _llama_counters(llama: Any) -> tuple[int, float, int, float]:
    """llama.cpp's cumulative (prompt tokens, prompt s, generated tokens, generation s)."""
    import llama_cpp

    data = llama_cpp.llama_perf_context(llama.ctx)
    return data.n_p_eval, data.t_p_eval_ms / 1000, data.n_eval, data.t_eval_ms / 1000


class LlamaCppChat(BaseChatModel):
    """LangChain chat model over ``llama_cpp.Llama.create_chat_completion``, loaded on first call.

    Our own small class (not langchain-community's) so that ``response_format`` with a JSON schema
    reaches llama.cpp as ``{"type": "json_object", "schema": ...}``, which it compiles to a grammar.
    """

    gguf_path: str
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int = 0
    n_ctx: int = 2048
    n_threads: int | None = None
    # clipflows' greedy grammar sampler (agents/llama_sampling.py); False: llama.cpp's own,
    # the same answers (tests/bench/bench_llm_throughput.py measures the difference).
    fast_grammar: bool = True
    _llama: Any = PrivateAttr(default=None)
    # llama.cpp is not thread-safe: one call at a time per loaded model.
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _generated_tokens: int = PrivateAttr(default=0)
    _prompt_tokens: int = PrivateAttr(default=0)
    _busy_seconds: float = PrivateAttr(default=0.0)
    _time: LlamaTime = PrivateAttr(default_factory=LlamaTime)

    @property
    def generated_tokens(self) -> int:
        """Tokens this model has generated so far (for tokens-per-second in the evaluations)."""
        return self._generated_tokens

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens this model has been given so far (a reused prefix counts too)."""
        return self._prompt_tokens

    @property
    def threads(self) -> int | None:
        """The threads the loaded model runs on (None before it loads)."""
        return self._llama.n_threads if self._llama is not None else None

    @property
    def busy_seconds(self) -> float:
        """Seconds this model has spent loading and answering so far (the demo's LLM time)."""
        return self._busy_seconds

    @property
    def time_split(self) -> LlamaTime:
        """Answering time so far, split into prompt evaluation and generation (a copy)."""
        return self._time.model_copy()

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-embedded"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"gguf_path": self.gguf_path, "seed": self.seed, "n_ctx": self.n_ctx}

    def _load(self) -> Any:
        """The Llama object, created on first use (call with the lock held)."""
        if self._llama is None:
            from llama_cpp import Llama

            threads = self.n_threads or default_threads()
            self._llama = (fast_grammar_llama if self.fast_grammar else Llama)(
                model_path=self.gguf_path,
                n_ctx=self.n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                seed=self.seed,
                verbose=False,
            )
        return self._llama

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        response_format = kwargs.get("response_format")
        schema = json_schema_of(response_format)
        if response_format is None or response_format.get("type") == "text":
            llama_format = None
        else:
            llama_format = {"type": "json_object", **({"schema": schema} if schema else {})}
        with self._lock:
            start, llama = time.perf_counter(), self._load()
            asked, before = time.perf_counter(), _llama_counters(llama)
            output = llama.create_chat_completion(
                messages=openai_messages(messages),
                temperature=kwargs.get("temperature", self.temperature),
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                seed=self.seed,
                stop=stop,
                response_format=llama_format,
            )
            self._generated_tokens += (output.get("usage") or {}).get("completion_tokens", 0)
            self._prompt_tokens += (output.get("usage") or {}).get("prompt_tokens", 0)
            self._busy_seconds += time.perf_counter() - start
            counted = [now - then for now, then in zip(_llama_counters(llama), before, strict=True)]
            self._time += LlamaTime(
                calls=1,
                busy_seconds=time.perf_counter() - asked,
                prompt_tokens=counted[0],
                prompt_seconds=counted[1],
                generated_tokens=counted[2],
                generation_seconds=counted[3],
            )
        choice, usage = output["choices"][0], output.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            response_metadata={"finish_reason": choice.get("finish_reason")},
            usage_metadata={
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0),
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def build(settings: LLMSettings) -> tuple[LlamaCppChat, str]:
    """The embedded chat model for these settings and the model name for cache keys."""
    path, name = resolve_gguf(settings)
    chat = LlamaCppChat(
        gguf_path=str(path),
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
        n_ctx=settings.context_length,
        n_threads=settings.threads,
    )
    return chat, name
