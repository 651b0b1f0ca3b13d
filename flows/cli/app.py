"""The ``clipflows`` command line: one app, its command groups registered explicitly.

Each group module holds its commands (their heavy imports stay inside them) and a ``COMMANDS``
table; :func:`build_app` adds them in the order ``--help`` shows.
"""

from __future__ import annotations

import atexit
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from clipflows.components.errors import ClipflowsError
from clipflows.flows.cli import (
    assistant,
    classify,
    clip,
    demo,
    llm,
    music,
    separate,
    set_difference,
    web,
)
from clipflows.flows.cli.session import CliState, log_failure, use_state

GROUPS = (clip, llm, set_difference, classify, separate, music, assistant, demo, web)


def build_app(
    state: CliState | None = None, commands: dict[str, Callable] | None = None
) -> typer.Typer:
    """A new app with every group's commands (or just ``commands``); its app-wide options
    (--verbose, --log-file) go into ``state``."""
    state = state or CliState()
    app = typer.Typer(
        help="CLIP + LLM workflows: set differences, differential class descriptions, "
        "text-queried sound separation, music for video.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )

    @app.callback()
    def options(
        verbose: Annotated[
            bool,
            typer.Option(
                "--verbose",
                "-v",
                envvar="CLIPFLOWS_VERBOSE",
                help="Print tracebacks and Prefect's error records, not only the one-line error.",
            ),
        ] = False,
        log_file: Annotated[
            Path | None,
            typer.Option(
                envvar="CLIPFLOWS_LOG_FILE",
                help="Where flows log in full, tracebacks included; default: "
                "clipflows.log in the user log folder.",
            ),
        ] = None,
    ) -> None:
        state.verbose = verbose
        if log_file is not None:
            state.log_file = log_file
        use_state(state)

    if commands is None:
        commands = {name: c for group in GROUPS for name, c in group.COMMANDS.items()}
    for name, command in commands.items():
        app.command(name)(command)
    return app


def main(commands: dict[str, Callable] | None = None) -> None:
    """Entry point: run the app; a failure ends in one ``Error:`` line (exit 2 for a user
    error, 1 for an unexpected one), its traceback in the log file (and, with --verbose, here).

    The line is printed at exit, after Prefect's own shutdown messages: its temporary server
    stops in an exit hook registered later than this one, so it runs first, and the error stays
    the last line of the output."""
    state = CliState()
    report: list[str] = []  # what to print at exit: the traceback (--verbose), the Error: line
    atexit.register(_print_report, report)
    try:
        build_app(state, commands)()
    except ClipflowsError as error:
        if state.log_started:  # a flow ran: keep the traceback beside its log
            log_failure(state, error)
        report.extend(_report(state, str(error)))
        sys.exit(2)
    except Exception as error:  # noqa: BLE001 - any failure is reported as one line
        logged = log_failure(state, error)
        where = f"its traceback is in {state.log_file}" if logged else "no log file was written"
        message = (
            f"{type(error).__name__}: {error} (an unexpected failure; {where}; "
            "`clipflows --verbose ...` prints it)"
        )
        report.extend(_report(state, message))
        sys.exit(1)


def _report(state: CliState, message: str) -> list[str]:
    """The traceback being handled (with --verbose) and the error as one line of literal text
    (never rich markup), whatever the message holds."""
    line = escape(" ".join(part.strip() for part in message.splitlines() if part.strip()))
    return [traceback.format_exc()] * state.verbose + [f"[bold red]Error:[/] {line}"]


def _print_report(report: list[str]) -> None:
    """Print the report on stderr: the traceback as it is, the error line unwrapped
    (soft_wrap), so it can be read and grepped whole."""
    console = Console(stderr=True)
    for number, text in enumerate(report, start=1):
        if number < len(report):
            console.file.write(text)
        else:
            console.print(text, highlight=False, soft_wrap=True)
