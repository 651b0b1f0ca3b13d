"""One way to ask an LLM for text or for a validated pydantic object, whatever the backend.

:func:`create_llm` turns settings into an :class:`LLM`; its :meth:`LLM.ask_structured` sends the
schema as an OpenAI-style ``response_format`` (each backend's chat model accepts one), validates
the answer with pydantic, retries a bounded number of times, and caches validated answers on disk.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, convert_to_messages
from pydantic import BaseModel, ValidationError

from clipflows.components.cache import JsonCache, stable_hash
from clipflows.components.errors import ClipflowsError
from clipflows.components.settings import LLMSettings, Settings, load_settings

from .schemas import assert_bounded

T = TypeVar("T", bound=BaseModel)
MessageLike = BaseMessage | tuple[str, str] | Mapping[str, Any] | str
MessagesLike = str | Sequence[MessageLike]
StructuredOutput = Literal["json_schema", "json_object"]

# Backend name -> module with ``build(settings) -> (chat model, model name)``; imported when chosen.
BACKENDS: dict[str, str] = {
    "embedded": "clipflows.agents.embedded",
    "openai-compatible": "clipflows.agents.openai_compatible",
    "vllm": "clipflows.agents.vllm_inprocess",
}
_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}
CACHE_FORMAT = 1  # bump when the cache key or stored value changes meaning


class LLMOutputError(ClipflowsError):
    """The model's answer never validated against the schema, even after retries."""

    def __init__(self, schema_name: str, raw: str, attempts: int, reason: str):
        self.schema_name, self.raw, self.attempts, self.reason = schema_name, raw, attempts, reason
        super().__init__(
            f"The LLM gave no valid {schema_name} in {attempts} attempts; last error: {reason}. "
            f"Last answer: {raw[:200]!r}. Try a larger model, a larger llm.max_tokens, "
            "or a simpler schema."
        )


class LLMUnavailableError(ClipflowsError):
    """The chosen LLM backend cannot answer (server down, package missing, no model named)."""


def normalise_messages(messages: MessagesLike) -> list[BaseMessage]:
    """LangChain messages from messages, (role, content) pairs, role/content dicts or a string."""
    return convert_to_messages([messages] if isinstance(messages, str) else list(messages))


def openai_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """Role/content dicts in OpenAI's chat format, which llama.cpp and vLLM take too."""
    return [{"role": _ROLES.get(m.type, m.type), "content": m.text} for m in messages]


def response_format_for(schema: type[BaseModel], mode: StructuredOutput) -> dict[str, Any]:
    """The OpenAI-style response_format enforcing ``schema``: vLLM/OpenAI or llama.cpp flavour."""
    json_schema = schema.model_json_schema()
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": json_schema, "strict": True},
        }
    return {"type": "json_object", "schema": json_schema}


@dataclass
class LLM:
    """A chat model plus what makes its answers reusable: identity, sampling, cache, retries."""

    chat_model: BaseChatModel
    identity: str  # "backend:model", part of every cache key
    sampling: dict[str, Any]  # temperature, max_tokens, seed: part of every cache key
    structured_output: StructuredOutput = "json_schema"
    cache: JsonCache | None = None
    max_retries: int = 2
    calls: int = 0  # real model calls (cache hits do not count)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def ask_text(self, messages: MessagesLike) -> str:
        """The model's plain-text answer, from the cache when this exact call was made before."""
        chat = normalise_messages(messages)
        key = self.cache_key(chat, None)
        cached = self.cache.get(key) if self.cache is not None else None
        if isinstance(cached, str):
            return cached
        text = self._complete(chat, None)
        if self.cache is not None:
            self.cache.set(key, text)
        return text

    def ask_structured(
        self, messages: MessagesLike, schema: type[T], remember_failure: bool = False
    ) -> T:
        """A validated ``schema`` instance; invalid answers are retried, then LLMOutputError.

        With ``remember_failure``, a prompt that never validated fails again from the cache
        (sampling is seeded, so asking again would fail the same way); transport errors are
        never remembered.
        """
        assert_bounded(schema)
        chat = normalise_messages(messages)
        response_format = response_format_for(schema, self.structured_output)
        key = self.cache_key(chat, response_format)
        cached = self.cache.get(key) if self.cache is not None else None
        if isinstance(cached, str):
            try:  # validators are not in the JSON schema, so check the cached answer again
                return _validate(schema, cached)
            except ValidationError:
                pass
        failed = self.cache.get("failed:" + key) if remember_failure and self.cache else None
        if isinstance(failed, str):
            known = json.loads(failed)
            raise LLMOutputError(schema.__name__, known["raw"], known["attempts"], known["reason"])
        attempt, raw, reason = chat, "", ""
        for _ in range(self.max_retries + 1):
            raw = self._complete(attempt, response_format)
            try:
                result = _validate(schema, raw)
            except ValidationError as exc:
                reason = _summarise(exc)
                attempt = [*chat, AIMessage(raw), HumanMessage(_retry_prompt(reason))]
                continue
            if self.cache is not None:
                self.cache.set(key, raw)  # only answers that validated are ever cached
            return result
        if remember_failure and self.cache is not None:
            record = {"raw": raw, "attempts": self.max_retries + 1, "reason": reason}
            self.cache.set("failed:" + key, json.dumps(record))
        raise LLMOutputError(schema.__name__, raw, self.max_retries + 1, reason)

    def cache_key(self, messages: Sequence[BaseMessage], response_format: Any) -> str:
        """Hash of everything that determines the answer: model, messages, schema, sampling."""
        return stable_hash(
            {
                "format": CACHE_FORMAT,
                "identity": self.identity,
                "messages": [{"role": m.type, "content": m.content} for m in messages],
                "response_format": response_format,
                "sampling": self.sampling,
            }
        )

    def _complete(self, messages: list[BaseMessage], response_format: Any) -> str:
        """One real model call; counts it and returns the answer's text."""
        with self._lock:
            self.calls += 1
        kwargs = {} if response_format is None else {"response_format": response_format}
        return self.chat_model.invoke(messages, **kwargs).text


def _validate(schema: type[T], raw: str) -> T:
    """Validate an answer; a raw newline or tab inside a JSON string (which small models write
    and grammar-constrained decoding lets through) is accepted rather than re-asked."""
    try:
        return schema.model_validate_json(raw)
    except ValidationError as error:
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            raise error from None  # the validation error says what is wrong
        return schema.model_validate(data)


def _summarise(error: ValidationError, limit: int = 300) -> str:
    """A short one-line account of a validation error, for the retry prompt and the exception."""
    parts = [f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in error.errors()]
    return "; ".join(parts)[:limit]


def _retry_prompt(reason: str) -> str:
    return f"That answer was not valid ({reason}). Reply again with only the corrected JSON."


def create_llm(settings: Settings | None = None, *, use_cache: bool = True) -> LLM:
    """The LLM chosen by ``settings.llm.backend``; loads no model until the first question."""
    settings = settings or load_settings()
    config: LLMSettings = settings.llm
    if config.backend not in BACKENDS:
        raise LLMUnavailableError(
            f"Unknown LLM backend {config.backend!r}; choose one of {', '.join(BACKENDS)}."
        )
    chat_model, model_name = importlib.import_module(BACKENDS[config.backend]).build(config)
    return LLM(
        chat_model=chat_model,
        identity=f"{config.backend}:{model_name}",
        sampling={
            "temperature": config.temperature,
            "max_tokens": config.max_tokens,
            "seed": config.seed,
        },
        structured_output=config.structured_output,
        cache=JsonCache(settings.cache_dir / "llm") if use_cache else None,
        max_retries=config.max_retries,
    )


def llm_weights(settings: Settings) -> str | None:
    """The sha256 of the embedded model's GGUF file as the registry pins it (None for servers,
    whose weights clipflows cannot see, and for unregistered files)."""
    from clipflows.agents.llm_registry import DEFAULT_LLM, llm_registry

    if settings.llm.backend != "embedded":
        return None
    entry = llm_registry().get(settings.llm.model or DEFAULT_LLM)
    return f"sha256={entry.sha256[:16]}" if entry else None


def seconds_per_answer(settings: Settings, tokens: int) -> float | None:
    """About how long the embedded model takes to write ``tokens`` schema-enforced tokens, from
    the speed measured here (the registry's ``measured``); None where nothing was measured."""
    from clipflows.agents.llm_registry import DEFAULT_LLM, llm_registry

    if settings.llm.backend != "embedded":
        return None
    entry = llm_registry().get(settings.llm.model or DEFAULT_LLM)
    speed = entry.measured.get("tokens_per_s", {}).get("schema") if entry else None
    return tokens / speed if speed else None
