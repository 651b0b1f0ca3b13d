"""Runs: every run on this server's machine with a report (from this app, the terminal, the
assistant, deployments), its files served through the page itself so any browser opens them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from clipflows.flows.runtime.runs import (
    RunRecord,
    prefect_runs,
    recorded_runs,
    server_configured,
)
from clipflows.ui.common import settings, shown_errors


def show_report(run: RunRecord, chosen: bool) -> None:
    """The run's files as downloads, and its report shown on the page when asked for."""
    folder = Path(run.report)
    finished = run.started.astimezone()
    st.caption(f"{run.flow}, finished {finished:%Y-%m-%d %H:%M:%S}; on the server in {folder}")
    cells = st.columns(max(len(run.files), 1))
    for cell, name in zip(cells, run.files, strict=False):
        if (folder / name).is_file():
            cell.download_button(name, (folder / name).read_bytes(), name, key=f"{run.id}/{name}")
    if not st.toggle("Show the report here", value=chosen, key=f"{run.id}/show"):
        return
    if (folder / "report.html").is_file():
        components.html((folder / "report.html").read_text(), height=700, scrolling=True)
    elif (folder / "report.md").is_file():
        st.markdown((folder / "report.md").read_text())


st.title("Runs")
if server_configured():
    st.subheader("Prefect server")
    with shown_errors():
        st.dataframe(pd.DataFrame([r.model_dump() for r in prefect_runs()]), hide_index=True)
st.subheader("Reports")
runs = recorded_runs(settings().cache_dir)
chosen = st.query_params.get("run")  # ?run=ID opens one run (links from other pages)
if not runs:
    st.info(
        "No runs yet: start one from a workflow page, or with -o DIR from the terminal "
        "(clipflows diff, clipflows classify)."
    )
for run in runs:
    label = f"{run.flow}: {run.title or run.name} ({run.started.astimezone():%Y-%m-%d %H:%M})"
    with st.expander(label, expanded=run.id == chosen):
        show_report(run, run.id == chosen)
