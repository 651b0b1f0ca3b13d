"""Home: what each workflow does, and which models this server uses."""

from __future__ import annotations

import streamlit as st

from clipflows.agents.health import llm_status
from clipflows.ui.common import settings

st.title("clipflows")
st.write(
    "Workflows where an LLM writes text and CLIP scores and reranks it. Every page runs a "
    "Prefect flow; the same flows run from the command line, on schedules, or from Python."
)
st.markdown(
    "- **Set difference** (VisDiff): how image set A differs from set B, as ranked phrases.\n"
    "- **Classification** (FuDD): zero-shot classes, with LLM descriptions that tell the "
    "confusable ones apart.\n"
    "- **Sound separation** (CLIPSep): keep the sound a query describes.\n"
    "- **Music for video** (prompt analogies): tracks for a video and an optional wish in "
    "words, with tags and LLM descriptions; optionally a MusicGen clip.\n"
    "- **Assistant**: ask in words; the LLM plans which workflows to run.\n"
    "- **Runs**: reports of earlier runs on this machine: from this app, the terminal "
    "(`-o DIR`), the assistant and deployments."
)
config = settings()
status = llm_status(config.llm)
st.subheader("Models")
st.table(
    {
        "what": ["CLIP spec", "device", "LLM backend", "LLM reachable", "cache"],
        "value": [
            config.clip,
            config.device,
            config.llm.backend,
            f"{'yes' if status.ok else 'no'}: {status.detail}",
            str(config.cache_dir),
        ],
    }
)
