"""The assistant: plan a request with the LLM, check the plan, run the workflows it names.

The LLM only chooses tools and arguments (an enforced schema, agents/planner.py); everything
else is deterministic: paths must lie inside folders the user allowed, plans are limited in
steps, expensive tools wait for confirmation, and the answer is written from the flows' results.
Each tool runs as a Prefect subflow, so the assistant's runs show up like any other.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from prefect import flow
from pydantic import BaseModel, Field

from clipflows.agents.llm import LLMOutputError
from clipflows.agents.plan_paths import PATH_ARGUMENTS
from clipflows.agents.planner import Plan, plan
from clipflows.components.classification.sources import WORLD_TASK
from clipflows.components.settings import Settings, load_settings
from clipflows.flows.runtime.progress import Steps
from clipflows.flows.runtime.runs import record_run
from clipflows.flows.runtime.worker_models import worker_llm

Status = Literal["done", "refused", "needs confirmation", "declined", "failed"]
EXPENSIVE = {"train_clip"}


class Guardrails(BaseModel):
    """What the assistant may touch and do."""

    allowed_dirs: list[Path] = Field(default_factory=list)
    max_steps: int = Field(default=3, ge=1, le=10)
    confirmed: bool = False  # the user agreed to expensive steps (training)


class StepOutcome(BaseModel):
    tool: str
    arguments: dict[str, str]
    status: Status
    summary: str
    report: str | None = None


class AssistantAnswer(BaseModel):
    request: str
    plan: Plan | None  # None when the LLM gave no valid plan (see outcomes)
    outcomes: list[StepOutcome]
    answer: str


def refusal(arguments: dict[str, str], guard: Guardrails, tool: str | None = None) -> str | None:
    """Why a step may not run, or None: a path argument, or a file its dataset or captions list
    (symbolic links followed), outside the allowed folders."""
    allowed = [d.resolve() for d in guard.allowed_dirs]
    where = ", ".join(str(d) for d in allowed) or "none (pass --allow DIR)"
    for name, value in arguments.items():
        if name in PATH_ARGUMENTS:
            path = Path(value).expanduser().resolve()
            if not any(path.is_relative_to(root) for root in allowed):
                return f"{name}={value!r} is outside the allowed folders ({where})."
    for name, listed in listed_files(tool, arguments) if tool else []:
        path = listed.resolve()
        if not any(path.is_relative_to(root) for root in allowed):
            shown = f"{listed} (which is {path})" if path != listed else str(listed)
            return (
                f"{name}={arguments[name]!r} lists {shown}, which is outside the allowed "
                f"folders ({where})."
            )
    return None


def listed_files(tool: str, arguments: dict[str, str]) -> list[tuple[str, Path]]:
    """(argument, file) for every file a step would open through its inputs, found by the same
    loaders the flows use: a dataset's images (class folders or CSV rows), a caption file's
    images. An input its loader cannot read lists nothing; the step then fails as it would."""
    from clipflows.components.errors import ClipflowsError

    try:
        if tool == "classify" and arguments.get("dataset") not in (None, WORLD_TASK):
            from clipflows.components.classification.datasets import LabelledImages
            from clipflows.flows.classify import load_dataset

            # Settings are read only for the "world" dataset, which lists no files of the user's.
            dataset: LabelledImages = load_dataset(arguments["dataset"], None, None)
            return [("dataset", Path(p)) for p in dataset.paths]
        if tool == "train_clip":
            from clipflows.components.clip.data import read_pairs

            return [("data", path) for path, _ in read_pairs(arguments["data"])]
    except (ClipflowsError, OSError, ValueError, KeyError):
        return []
    return []


def _run_step(
    tool: str, arguments: dict[str, str], settings: Settings, output: Path
) -> tuple[str, str | None]:
    """Run one checked step as a subflow; returns its result in a sentence and its report."""
    if tool == "set_difference" or (tool == "classify" and arguments.get("dataset") != WORLD_TASK):
        from clipflows.components.clip.loading import require_weights

        require_weights(settings.clip)  # a missing CLIP fails the step before its flow starts
    if tool == "set_difference":
        from clipflows.flows.set_difference import headline, set_difference

        result = set_difference(
            arguments["set_a"], arguments["set_b"], settings=settings, output=str(output)
        )
        return headline(result), result.report.get("report.html")
    if tool == "classify":
        from clipflows.components.classification.report import Method
        from clipflows.flows.classify import ClassifyConfig, classify

        config = ClassifyConfig(context=arguments.get("context") or None)
        result = classify(  # the world task's renders get the world CLIP unless one is named
            arguments["dataset"], settings=settings, config=config, output=str(output)
        )
        summary = " ".join(
            [
                f"{result.images} images, {len(result.class_names)} classes: one template "
                f"{result.accuracy(Method.ONE_TEMPLATE):.1%}, FuDD + fusion "
                f"{result.accuracy(Method.FUSION):.1%}.",
                *(f"Warning: {warning}" for warning in result.warnings),
            ]
        )
        return summary, result.report.get("report.html")
    if tool == "train_clip":
        from clipflows.components.clip.training import ClipTrainConfig
        from clipflows.components.world.model import TINY_ARCHITECTURE
        from clipflows.flows.train_clip import train_clip_flow

        trained = train_clip_flow(
            arguments["data"], arguments["output"], ClipTrainConfig(architecture=TINY_ARCHITECTURE)
        )
        return f"Trained {trained.steps} steps, final loss {trained.final_loss:.3f}.", arguments[
            "output"
        ]
    raise ValueError(f"No runner for tool {tool!r}.")


@flow(name="assistant")
def ask(
    request: str,
    settings: Settings | None = None,
    guard: Guardrails | None = None,
    given_plan: Plan | None = None,
) -> AssistantAnswer:
    """Plan ``request`` (or take ``given_plan``), check each step, run the allowed ones."""
    settings = settings or load_settings()
    guard = guard or Guardrails()
    steps = Steps("plan", "run the plan")
    steps.start("plan")
    try:
        chosen = given_plan or plan(worker_llm(settings), request)  # the model its steps use
    except LLMOutputError as error:  # no valid plan: say so, run nothing
        failed = StepOutcome(
            tool="plan", arguments={}, status="failed", summary=f"No valid plan: {error}"
        )
        return AssistantAnswer(request=request, plan=None, outcomes=[failed], answer=failed.summary)
    outcomes: list[StepOutcome] = []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    steps.start("run the plan")
    planned = Steps(*(f"{index + 1}. {step.tool}" for index, step in enumerate(chosen.steps)))
    for index, step in enumerate(chosen.steps):
        planned.start(f"{index + 1}. {step.tool}")
        arguments = step.arguments()
        if index >= guard.max_steps:
            outcomes.append(
                StepOutcome(
                    tool=step.tool,
                    arguments=arguments,
                    status="refused",
                    summary=f"Step limit ({guard.max_steps}) reached.",
                )
            )
            continue
        if step.tool == "none":
            outcomes.append(
                StepOutcome(
                    tool="none",
                    arguments=arguments,
                    status="declined",
                    summary=f"Outside what the tools can do: {arguments['reason']}",
                )
            )
            continue
        reason = refusal(arguments, guard, step.tool)
        if reason:
            outcomes.append(
                StepOutcome(tool=step.tool, arguments=arguments, status="refused", summary=reason)
            )
            continue
        if step.tool in EXPENSIVE and not guard.confirmed:
            outcomes.append(
                StepOutcome(
                    tool=step.tool,
                    arguments=arguments,
                    status="needs confirmation",
                    summary="Training takes minutes to hours: confirm (--yes) to run it.",
                )
            )
            continue
        output = settings.cache_dir / "assistant-runs" / f"{stamp}-{index}-{step.tool}"
        try:
            summary, report = _run_step(step.tool, arguments, settings, output)
            if report:
                record_run(settings.cache_dir, f"assistant: {step.tool}", request[:80], output)
            outcomes.append(
                StepOutcome(
                    tool=step.tool,
                    arguments=arguments,
                    status="done",
                    summary=summary,
                    report=report,
                )
            )
        except Exception as error:  # noqa: BLE001 - one failed step is reported; the others run
            outcomes.append(
                StepOutcome(
                    tool=step.tool,
                    arguments=arguments,
                    status="failed",
                    summary=f"{type(error).__name__}: {error}",
                )
            )
    answer = "\n".join(
        f"{o.tool}: {o.status}. {o.summary}" + (f" Report: {o.report}" if o.report else "")
        for o in outcomes
    )
    return AssistantAnswer(request=request, plan=chosen, outcomes=outcomes, answer=answer)
