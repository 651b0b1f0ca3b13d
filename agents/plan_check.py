"""The LLM checks its own plan, one short question a step: does the request ask for what this
tool does, and which folder is the user asking about?

One call that writes a whole plan asks a small model to choose the tools, the order and every
argument at once; Qwen2.5-Coder-1.5B then plans `classify` for any request about each image
("how many cars are in each picture") and takes the folder named first as the one asked about.
Asked about one step at a time, with the tool's own description in front of it, it does
better (new-wording dev suite, valid plans 83.3 % -> 87.5 %; docs/llm-backends.md). The checks
only decline a step or swap a difference's two folders: they never add a tool or a path.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel

from .llm import LLM, LLMOutputError

log = logging.getLogger(__name__)


class Fits(BaseModel):
    """Whether a request asks for what one tool does."""

    answer: Literal["yes", "no"]


class AskedAbout(BaseModel):
    """Which of two folders a request asks about."""

    folder: Literal["first", "second"]


FITS_PROMPT = (
    "A user wrote a request about images. Would this tool's result answer it, or a part of it?\n"
    "The tool {tool}: {doc}\n"
    "Answer yes when the tool gives what the user asks for; answer no when they ask for "
    "something it does not give, even about the same images. Answer in JSON: "
    '{{"answer": "yes"}} or {{"answer": "no"}}.'
)
ASKED_ABOUT_PROMPT = (
    "A user compares the images in two folders and wants to know what is special about one of "
    "them, set against the other (the reference, the baseline, the usual ones). Which folder "
    "do they want described? Answer in JSON: "
    '{"folder": "first"} or {"folder": "second"}.'
)


def fits(llm: LLM, request: str, tool: str, description: str) -> bool:
    """Whether the LLM says ``request`` asks for what ``tool`` (described) does; a check it
    gives no valid answer to leaves the step as planned."""
    system = FITS_PROMPT.format(tool=tool, doc=" ".join(description.split()))
    try:
        return llm.ask_structured([("system", system), ("human", request)], Fits).answer == "yes"
    except LLMOutputError as error:
        log.warning("No answer to whether %s fits, the step stays: %s", tool, error)
        return True


def asked_about(llm: LLM, request: str, folders: tuple[str, str]) -> str | None:
    """The folder of ``folders`` the LLM says ``request`` asks about, when it says the same with
    the two listed in either order (a small model leans to the one listed first); else None."""
    chosen = []
    for first, second in (folders, folders[::-1]):
        question = f"Request: {request}\nThe first folder: {first}\nThe second folder: {second}"
        try:
            answer = llm.ask_structured(
                [("system", ASKED_ABOUT_PROMPT), ("human", question)], AskedAbout
            )
        except LLMOutputError as error:
            log.warning("No answer to which folder is asked about, the step stays: %s", error)
            return None
        chosen.append(first if answer.folder == "first" else second)
    return chosen[0] if chosen[0] == chosen[1] else None
