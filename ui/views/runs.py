"""Runs: recent flow runs and their reports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from clipflows.flows.runtime.runs import local_runs, prefect_runs, server_configured
from clipflows.ui.common import settings, shown_errors

st.title("Runs")
if server_configured():
    st.subheader("Prefect server")
    with shown_errors():
        st.dataframe(pd.DataFrame([r.model_dump() for r in prefect_runs()]), hide_index=True)
st.subheader("Reports from this app")
runs = local_runs(settings().cache_dir / "ui-runs")
if not runs:
    st.info("No runs yet: start one from a workflow page.")
for run in runs:
    with st.expander(f"{run.flow}: {run.name} ({run.started:%Y-%m-%d %H:%M})"):
        folder = Path(run.report)
        for name in ("result.json", "report.md", "report.html", "descriptions.json"):
            if (folder / name).is_file():
                st.download_button(
                    name, (folder / name).read_bytes(), name, key=f"{run.name}/{name}"
                )
        if (folder / "report.md").is_file():
            st.markdown((folder / "report.md").read_text())
