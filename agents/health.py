"""Is the configured LLM usable right now? A cheap check for status pages, without a model call."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from pydantic import BaseModel

from clipflows.components.errors import ClipflowsError
from clipflows.components.settings import LLMSettings

if TYPE_CHECKING:
    import httpx2


class LLMStatus(BaseModel):
    backend: str
    ok: bool
    detail: str


def llm_status(settings: LLMSettings, timeout_s: float = 2.0) -> LLMStatus:
    """Embedded: the GGUF file exists. Server: ``GET /models`` answers. vLLM: it is installed."""
    if settings.backend == "embedded":
        from .embedded import resolve_gguf

        try:
            path, _ = resolve_gguf(settings)
        except ClipflowsError as error:
            return LLMStatus(backend=settings.backend, ok=False, detail=str(error))
        return LLMStatus(backend=settings.backend, ok=path.is_file(), detail=str(path))
    if settings.backend == "openai-compatible":
        import httpx2

        url = settings.base_url.rstrip("/") + "/models"
        try:
            response = _get_models(settings, timeout_s)
            response.raise_for_status()
        except (httpx2.HTTPError, httpx2.InvalidURL) as error:
            return LLMStatus(
                backend=settings.backend, ok=False, detail=f"{url}: {type(error).__name__}"
            )
        names = [m.get("id", "?") for m in response.json().get("data", [])]
        return LLMStatus(backend=settings.backend, ok=True, detail=f"{url}: {', '.join(names)}")
    installed = importlib.util.find_spec("vllm") is not None
    return LLMStatus(
        backend=settings.backend,
        ok=installed,
        detail="vllm is installed" if installed else "vllm is not installed in this environment",
    )


def require_llm_server(settings: LLMSettings, timeout_s: float = 5.0) -> None:
    """Stop before any work when the openai-compatible backend's server is not there (nothing
    listens at ``base_url``, or the address is not a URL); other backends, and any server that
    answers, even with an HTTP error or too slowly, pass: their requests report what goes wrong.
    Waits at most ``timeout_s`` (or ``llm.timeout_s`` if shorter) in all."""
    if settings.backend != "openai-compatible":
        return
    import httpx2

    try:
        _get_models(settings, timeout_s)
    except (
        httpx2.ConnectError,
        httpx2.ConnectTimeout,
        httpx2.UnsupportedProtocol,
        httpx2.InvalidURL,
    ) as error:
        reason = f"{type(error).__name__}: {error}"
    except httpx2.HTTPError:
        return  # something answers there (slowly or oddly); the requests will say more
    else:
        return
    from .llm import LLMUnavailableError

    raise LLMUnavailableError(
        f"No OpenAI-compatible LLM server answered at {settings.base_url} ({reason}). Start "
        "one there (e.g. `vllm serve MODEL`), point CLIPFLOWS_LLM__BASE_URL at a running one, "
        "or use CLIPFLOWS_LLM__BACKEND=embedded."
    )


def _get_models(settings: LLMSettings, timeout_s: float) -> httpx2.Response:
    """``GET base_url/models``, whole, within one overall deadline: ``timeout_s`` or the LLM's
    own ``timeout_s`` if shorter (a per-read timeout never ends a server trickling bytes)."""
    from .http_deadline import deadline_client

    url = settings.base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"}
    with deadline_client(min(timeout_s, settings.timeout_s)) as client:
        return client.get(url, headers=headers)
