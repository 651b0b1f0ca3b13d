"""The assistant's planner: a request in words -> a plan of typed workflow calls.

Small models cannot be trusted with free-form tool calling, so the plan is an enforced schema:
each step names a tool from a fixed set (a discriminated union, one model per tool) with
validated, bounded arguments. The planner only proposes; flows/assistant.py checks and runs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from .llm import LLM

MAX_STEPS = 3
Path = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class SetDifferenceCall(BaseModel):
    """Describe how the images in folder set_a differ from those in folder set_b."""

    tool: Literal["set_difference"]
    set_a: Path
    set_b: Path


class ClassifyCall(BaseModel):
    """Classify the images of a dataset (a folder with one sub-folder per class, or a CSV)."""

    tool: Literal["classify"]
    dataset: Path
    context: Short = ""


class TrainClipCall(BaseModel):
    """Train a small CLIP on an image-caption folder (expensive: minutes to hours)."""

    tool: Literal["train_clip"]
    data: Path
    output: Path


class Decline(BaseModel):
    """The request is outside what the tools can do."""

    tool: Literal["none"]
    reason: Short


Step = Annotated[
    SetDifferenceCall | ClassifyCall | TrainClipCall | Decline, Field(discriminator="tool")
]
TOOL_MODELS: dict[str, type[BaseModel]] = {
    "set_difference": SetDifferenceCall,
    "classify": ClassifyCall,
    "train_clip": TrainClipCall,
    "none": Decline,
}


class Plan(BaseModel):
    """What the assistant will do, in order."""

    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)


def tool_catalogue() -> str:
    """One line per tool, from the models' docstrings and fields (the prompt's tool list)."""
    lines = []
    for name, model in TOOL_MODELS.items():
        fields = ", ".join(f for f in model.model_fields if f != "tool")
        lines.append(f"- {name}({fields}): {(model.__doc__ or '').strip()}")
    return "\n".join(lines)


SYSTEM = (
    "You plan which tools to run for a user's request about images. Use only these tools, "
    "with folder paths exactly as the user wrote them:\n{tools}\n"
    "Answer in JSON: {{\"steps\": [...]}}, at most {n} steps; use the tool 'none' with a reason "
    "when no tool fits."
)


def plan(llm: LLM, request: str) -> Plan:
    """The model's plan for ``request``, validated against the schema (else LLMOutputError)."""
    system = SYSTEM.format(tools=tool_catalogue(), n=MAX_STEPS)
    return llm.ask_structured([("system", system), ("human", request)], Plan)
