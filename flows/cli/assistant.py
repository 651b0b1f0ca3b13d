"""The assistant command: a request in words, planned by the LLM, run as workflows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clipflows.flows.cli.common import ClipOption, ConfigOption, console, load_cli_settings
from clipflows.flows.cli.session import flow_session


def ask(
    request: Annotated[str, typer.Argument(help="What you want, e.g. 'how do A/ and B/ differ?'")],
    allow: Annotated[
        list[Path] | None,
        typer.Option("--allow", help="A folder the assistant may read (repeat for more)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Allow expensive steps (training).")] = False,
    max_steps: Annotated[
        int, typer.Option(min=1, max=10, help="Most steps the plan may have.")
    ] = 3,
    config: ConfigOption = None,
    clip: ClipOption = None,
) -> None:
    """Ask the assistant: the LLM plans which workflows to run; only allowed folders are read."""
    from clipflows.agents.health import require_llm_server

    settings = load_cli_settings(config, clip)
    require_llm_server(settings.llm)  # the plan needs the LLM: a dead server stops us here
    from clipflows.flows.assistant import Guardrails
    from clipflows.flows.assistant import ask as ask_flow

    guard = Guardrails(allowed_dirs=list(allow or []), max_steps=max_steps, confirmed=yes)
    with flow_session():
        result = ask_flow(request, settings=settings, guard=guard)
    for number, outcome in enumerate(result.outcomes, start=1):
        arguments = ", ".join(f"{k}={v}" for k, v in outcome.arguments.items())
        colour = {"done": "green", "failed": "red"}.get(outcome.status, "yellow")
        console.print(f"{number}. {outcome.tool}({arguments}): [{colour}]{outcome.status}[/]")
        console.print(f"   {outcome.summary}")
        if outcome.report:
            console.print(f"   Report: {outcome.report}")


COMMANDS = {"ask": ask}
