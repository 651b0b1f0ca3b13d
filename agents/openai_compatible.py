"""Any OpenAI-API chat server (vLLM in production, llama.cpp's server too) via LangChain."""

from __future__ import annotations

import json
from typing import Any

import openai
from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_openai import ChatOpenAI

from clipflows.components.settings import LLMSettings

from .http_deadline import deadline_client
from .llm import LLMUnavailableError

# The openai SDK's backoff between HTTP tries: 0.5 s doubling, at most 8 s (openai._constants).
FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.5, 8.0


def worst_case_s(timeout_s: float, request_retries: int) -> float:
    """The longest one question can take against a server that never answers: every try runs
    to its deadline, with the SDK's backoff between tries."""
    backoff = sum(min(FIRST_BACKOFF_S * 2**i, MAX_BACKOFF_S) for i in range(request_retries))
    return (request_retries + 1) * timeout_s + backoff


class OpenAICompatibleChat(ChatOpenAI):
    """ChatOpenAI for self-hosted servers: clear error when down, truncated answers kept."""

    def _get_request_payload(
        self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict:
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        # ChatOpenAI sends max_completion_tokens; llama.cpp's server reads only max_tokens, and
        # vLLM reads either, so send the older name that every self-hosted server understands.
        if "max_completion_tokens" in payload:
            payload["max_tokens"] = payload.pop("max_completion_tokens")
        return payload

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        try:
            return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
        except (openai.APIError, openai.LengthFinishReasonError, json.JSONDecodeError) as exc:
            return self._recover(exc)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        try:
            return await super()._agenerate(messages, stop=stop, run_manager=run_manager, **kwargs)
        except (openai.APIError, openai.LengthFinishReasonError, json.JSONDecodeError) as exc:
            return self._recover(exc)

    def _recover(self, exc: Exception) -> ChatResult:
        """One clear error naming the endpoint for a server that is down, slow or failing (after
        the SDK's bounded retries with backoff); a truncated answer kept as an answer."""
        tries = f"{self.max_retries + 1} tries"
        if isinstance(exc, openai.APITimeoutError):
            total = worst_case_s(self.request_timeout, self.max_retries)
            raise LLMUnavailableError(
                f"The LLM server at {self.openai_api_base} did not answer within "
                f"{self.request_timeout} s ({tries}, at most {total:.1f} s in all with "
                "backoff). Raise CLIPFLOWS_LLM__TIMEOUT_S or check the server's load."
            ) from exc
        if isinstance(exc, openai.APIConnectionError):
            raise LLMUnavailableError(
                f"No OpenAI-compatible LLM server answered at {self.openai_api_base} ({exc}; "
                f"{tries}). Start one there (e.g. `vllm serve MODEL`), point "
                "CLIPFLOWS_LLM__BASE_URL at a running one, or use CLIPFLOWS_LLM__BACKEND=embedded."
            ) from exc
        if isinstance(exc, openai.APIStatusError):
            raise LLMUnavailableError(
                f"The LLM server at {self.openai_api_base} answered HTTP {exc.status_code} "
                f"({tries}): {str(exc.message)[:300]}"
            ) from exc
        if isinstance(exc, openai.APIError | json.JSONDecodeError):  # not an OpenAI response
            raise LLMUnavailableError(
                f"The LLM server at {self.openai_api_base} sent an answer that is not an "
                f"OpenAI chat completion: {str(exc)[:300]}"
            ) from exc
        # With response_format the SDK refuses an answer cut off by max_tokens; hand the text
        # back so validation reports it (and retries) like any other invalid answer.
        content = exc.completion.choices[0].message.content or ""
        message = AIMessage(content=content, response_metadata={"finish_reason": "length"})
        return ChatResult(generations=[ChatGeneration(message=message)])


def build(settings: LLMSettings) -> tuple[OpenAICompatibleChat, str]:
    """The chat model for the server at settings.llm.base_url, and the served model's name."""
    if not settings.model:
        _no_model_name(settings)
    chat = OpenAICompatibleChat(
        base_url=settings.base_url,
        model=settings.model,
        api_key=settings.api_key,
        timeout=settings.timeout_s,
        # One overall deadline per HTTP try (httpx's own timeouts count per read).
        http_client=deadline_client(settings.timeout_s),
        # Transport retries (timeouts, refused connections, 429, 5xx) with the SDK's exponential
        # backoff; re-asking after an invalid answer happens in LLM.ask_structured.
        max_retries=settings.request_retries,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
    )
    return chat, settings.model


def _no_model_name(settings: LLMSettings) -> None:
    """Without a model name nothing can be asked: say so, but first whether the server is up
    at all (a dead server is the bigger problem), and which models it serves when it is."""
    from .health import llm_status

    need = (
        "set CLIPFLOWS_LLM__MODEL (llm.model) to the served model's name, e.g. the "
        "--served-model-name given to vLLM"
    )
    status = llm_status(settings, timeout_s=min(5.0, settings.timeout_s))
    if not status.ok:
        raise LLMUnavailableError(
            f"No OpenAI-compatible LLM server answered at {settings.base_url} ({status.detail}). "
            "Start one there (e.g. `vllm serve MODEL`), point CLIPFLOWS_LLM__BASE_URL at a "
            f"running one, or use CLIPFLOWS_LLM__BACKEND=embedded; and {need}."
        )
    raise LLMUnavailableError(
        f"The openai-compatible backend needs the served model's name: {need}. "
        f"The server answers ({status.detail})."
    )
