"""Captions from a vision-language model behind an OpenAI-compatible server (vLLM, llama.cpp).

Images travel as base64 data URLs inside the chat message, which both servers accept.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Sequence
from pathlib import Path

from langchain_core.messages import HumanMessage

from clipflows.components.images import read_bytes

from .llm import LLM

PROMPT = "Describe this image in one short sentence."


def data_url(path: Path) -> str:
    """The file's bytes as a data URL; the MIME type is guessed from the name."""
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(read_bytes(path)).decode()}"


class VlmCaptioner:
    """One request per image (servers batch concurrent requests themselves); answers cached
    by the LLM call cache as well as by :func:`clipflows.components.set_difference.captioning.caption_images`."""

    def __init__(self, llm: LLM, prompt: str = PROMPT):
        self.llm = llm
        self.prompt = prompt
        self.identity = f"vlm:{llm.identity}:{prompt}"

    def caption(self, paths: Sequence[Path]) -> list[str]:
        captions = []
        for path in paths:
            message = HumanMessage(
                content=[
                    {"type": "text", "text": self.prompt},
                    {"type": "image_url", "image_url": {"url": data_url(Path(path))}},
                ]
            )
            captions.append(self.llm.ask_text([message]).strip())
        return captions
