"""The assistant's planner: a request in words -> a plan of typed workflow calls.

Small models cannot be trusted with free-form tool calling, so the plan is an enforced schema:
each step names a tool from a fixed set (a discriminated union, one model per tool) with
validated, bounded arguments. The planner only proposes; flows/assistant.py checks and runs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from .llm import LLM
from .plan_check import asked_about, fits
from .plan_paths import ground_paths

MAX_STEPS = 3
Path = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


def _asked_first(schema: dict) -> None:
    """The LLM must write ``asked`` first (code that builds steps may leave it out)."""
    schema["properties"] = {"asked": schema["properties"]["asked"], **schema["properties"]}
    schema["required"] = ["asked", *schema.get("required", [])]


class PlannedStep(BaseModel):
    """A step and the words of the request it answers: quoting them first keeps a small model
    from planning steps nobody asked for."""

    model_config = ConfigDict(json_schema_extra=_asked_first)

    asked: Short = Field(
        default="", description="the words of the request this step answers, copied exactly"
    )

    def arguments(self) -> dict[str, str]:
        """The tool's arguments as text, by field name (not the tool, not the quoted words)."""
        return {k: str(v) for k, v in self.model_dump().items() if k not in ("tool", "asked")}


class SetDifferenceCall(PlannedStep):
    """Say what is true of the images in one folder more than of those in another."""

    # The model writes "asked_about" and "reference": positional names ("set_a", "the first
    # folder") made Qwen2.5-Coder-1.5B take the folder named first, whichever one the user asks about.
    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, json_schema_extra=_asked_first
    )

    tool: Literal["set_difference"]
    set_a: Path = Field(
        alias="asked_about",
        description="the folder the user asks about, wherever the request names it",
    )
    set_b: Path = Field(
        alias="reference", description="the folder it is set against (the reference, the baseline)"
    )

    @model_validator(mode="after")
    def _two_folders(self) -> SetDifferenceCall:
        if self.set_a.rstrip("/") == self.set_b.rstrip("/"):
            raise ValueError("asked_about and reference must be two different folders")
        return self


class ClassifyCall(PlannedStep):
    """Tell which of a dataset's classes each image belongs to (a folder with one sub-folder per
    class, or a CSV of images and labels)."""

    tool: Literal["classify"]
    dataset: Path = Field(description="the dataset folder or CSV file")
    context: Short = Field(
        default="", description="what the images show, in a few of the user's words, or ''"
    )


class TrainClipCall(PlannedStep):
    """Train a small CLIP on a folder of captioned images (expensive: minutes to hours)."""

    tool: Literal["train_clip"]
    data: Path = Field(description="the folder of captioned images to learn from")
    output: Path = Field(description="the folder to save the trained model in")


class Decline(PlannedStep):
    """For a request, or a part of one, that none of the other tools does: they only read
    images and report on them, so a request to change, make or remove files is one of these."""

    tool: Literal["none"]
    reason: Short = Field(description="why no tool fits, in one sentence")


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
        fields = {
            f.alias or k: f for k, f in model.model_fields.items() if k not in ("tool", "asked")
        }
        doc = " ".join((model.__doc__ or "").split())
        lines.append(f"- {name}({', '.join(fields)}): {doc}")
        lines += [f"    {k}: {f.description}" for k, f in fields.items() if f.description]
    return "\n".join(lines)


SYSTEM = (
    "You plan which tools to run for a user's request about folders of images. The tools:\n"
    "{tools}\n"
    "Rules: one step for each thing the user asks for, in their order, at most {n} steps, and "
    "nothing they did not ask for. Use a tool only when the request asks for what that tool "
    "does; anything else, even about images, gets the tool 'none' and a reason. Copy every "
    'folder and file path exactly as the user wrote it. Answer in JSON: {{"steps": [...]}}.\n'
    "{examples}"
)
# Worked examples from other subjects and folders (never an evaluation suite's requests,
# flows/assistant_eval.py). Chosen on the new-wording dev suite with Qwen2.5-Coder-1.5B, valid
# plans 54 % -> 83 %: "asked_about"/"reference" for the direction (-> 67 %), each step quoting the
# words it answers (-> 79 %; it stopped a classify step before every training request), and a
# classify example whose context is not its folder's name (-> 83 %).
EXAMPLES = (
    (
        "what separates the slides in lab/healthy_cells from lab/infected_cells/?",
        '{"steps": [{"asked": "what separates the slides in lab/healthy_cells from '
        'lab/infected_cells/", "tool": "set_difference", "asked_about": "lab/healthy_cells", '
        '"reference": "lab/infected_cells/"}]}',
    ),
    (
        "identify the fossils pictured in museum/drawer_3.csv, then what do museum/jurassic's "
        "fossils have that museum/triassic's lack?",
        '{"steps": [{"asked": "identify the fossils pictured in museum/drawer_3.csv", '
        '"tool": "classify", "dataset": "museum/drawer_3.csv", "context": "fossils"}, '
        '{"asked": "what do museum/jurassic\'s fossils have that museum/triassic\'s lack", '
        '"tool": "set_difference", "asked_about": "museum/jurassic", '
        '"reference": "museum/triassic"}]}',
    ),
    (
        "train CLIP on museum/captioned and keep it in museum/clip",
        '{"steps": [{"asked": "train CLIP on museum/captioned and keep it in museum/clip", '
        '"tool": "train_clip", "data": "museum/captioned", "output": "museum/clip"}]}',
    ),
    (
        "the sensors in field/north were swapped in May; against the readings in field/south, "
        "what's odd about the north ones?",
        '{"steps": [{"asked": "against the readings in field/south, what\'s odd about the north '
        'ones", "tool": "set_difference", "asked_about": "field/north", '
        '"reference": "field/south"}]}',
    ),
    (
        "book me a table for two tonight",
        '{"steps": [{"asked": "book me a table for two tonight", "tool": "none", "reason": '
        '"booking restaurants is not something these image tools do"}]}',
    ),
)


def propose_plan(llm: LLM, request: str) -> Plan:
    """The model's own plan for ``request``, validated against the schema (else LLMOutputError)."""
    examples = "".join(f"Example request: {r}\nPlan: {p}\n" for r, p in EXAMPLES)
    system = SYSTEM.format(tools=tool_catalogue(), n=MAX_STEPS, examples=examples)
    return llm.ask_structured([("system", system), ("human", request)], Plan)


def checked_step(llm: LLM, request: str, step: PlannedStep) -> PlannedStep:
    """``step`` as the LLM's checks leave it (agents/plan_check.py): declined when the request
    does not ask for what its tool does, a difference's folders swapped when the LLM says, in
    either order of asking, that the user asks about the other one."""
    if step.tool == "none":
        return step
    if not fits(llm, request, step.tool, TOOL_MODELS[step.tool].__doc__ or ""):
        return Decline(
            tool="none", asked=step.asked, reason=f"the request does not ask for {step.tool}"
        )
    folders = (step.set_a, step.set_b) if isinstance(step, SetDifferenceCall) else None
    if folders and asked_about(llm, request, folders) == step.set_b:
        return step.model_copy(update={"set_a": step.set_b, "set_b": step.set_a})
    return step


def check_plan(llm: LLM, request: str, proposed: Plan) -> Plan:
    """``proposed`` with each step checked against ``request`` by the LLM (``checked_step``)."""
    return Plan(steps=[checked_step(llm, request, step) for step in proposed.steps])


def ground_plan(proposed: Plan, request: str) -> Plan:
    """``proposed`` with its paths put back to the ones ``request`` names (agents/plan_paths.py)."""
    return Plan(steps=ground_paths(list(proposed.steps), request))


def plan(llm: LLM, request: str) -> Plan:
    """The plan the assistant acts on: the model's, checked a step at a time by the model, with
    its paths grounded in the request."""
    return ground_plan(check_plan(llm, request, propose_plan(llm, request)), request)
