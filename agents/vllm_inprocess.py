"""vLLM in this process (``vllm.LLM``) for GPU batch jobs; vLLM is imported only when chosen.

Scripts that use it need an ``if __name__ == "__main__":`` guard (vLLM starts worker processes).
"""

from __future__ import annotations

import threading
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from clipflows.components.settings import LLMSettings

from .llm import LLMUnavailableError, openai_messages
from .schemas import json_schema_of


class VLLMChat(BaseChatModel):
    """LangChain chat model over ``vllm.LLM.chat`` with schema-guided decoding, loaded lazily."""

    model: str
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int = 0
    max_model_len: int = 2048
    _engine: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "vllm-inprocess"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "seed": self.seed, "max_model_len": self.max_model_len}

    def _load(self) -> Any:
        """The vllm.LLM engine, created on first use (call with the lock held)."""
        if self._engine is None:
            try:
                import vllm
            except ImportError as exc:
                raise LLMUnavailableError(
                    "The vllm backend needs vLLM in this environment: run "
                    "`pip install 'clipflows[vllm]'` on a GPU host, or use the "
                    "openai-compatible backend against a vLLM server."
                ) from exc
            self._engine = vllm.LLM(
                model=self.model, seed=self.seed, max_model_len=self.max_model_len
            )
        return self._engine

    def _sampling_params(self, response_format: Any, stop: list[str] | None) -> Any:
        """SamplingParams with JSON-guided decoding when a response_format asks for JSON."""
        from vllm import SamplingParams

        guide: dict[str, Any] = {}
        if response_format is not None and response_format.get("type") != "text":
            schema = json_schema_of(response_format)
            spec = {"json": schema} if schema else {"json_object": True}
            try:
                from vllm.sampling_params import StructuredOutputsParams
            except ImportError:  # vLLM before structured_outputs replaced guided_decoding
                from vllm.sampling_params import GuidedDecodingParams

                guide["guided_decoding"] = GuidedDecodingParams(**spec)
            else:
                guide["structured_outputs"] = StructuredOutputsParams(**spec)
        return SamplingParams(
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            seed=self.seed,
            stop=stop,
            **guide,
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            engine = self._load()
            params = self._sampling_params(kwargs.get("response_format"), stop)
            outputs = engine.chat(openai_messages(messages), sampling_params=params, use_tqdm=False)
        completion = outputs[0].outputs[0]
        message = AIMessage(
            content=completion.text,
            response_metadata={"finish_reason": completion.finish_reason, "model": self.model},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def build(settings: LLMSettings) -> tuple[VLLMChat, str]:
    """The in-process vLLM chat model (nothing loaded yet) and the model name for cache keys."""
    if not settings.model:
        raise LLMUnavailableError(
            "The vllm backend needs a model: set CLIPFLOWS_LLM__MODEL (llm.model) to a "
            "Hugging Face model folder or hub id."
        )
    chat = VLLMChat(
        model=settings.model,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
        max_model_len=settings.context_length,
    )
    return chat, settings.model
