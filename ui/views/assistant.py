"""Assistant: ask in words; the LLM plans which workflows to run inside the allowed folders."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from clipflows.flows.assistant import Guardrails, ask
from clipflows.flows.runtime.runs import run_id
from clipflows.ui.common import running, settings, with_progress

st.title("Assistant")
st.caption(
    "The LLM chooses tools (set difference, classification, CLIP training) under an enforced "
    "schema; only the folders below may be read, and training waits for your confirmation."
)
allowed = st.text_area("Folders the assistant may read (one per line)", "")
confirmed = st.checkbox("Allow expensive steps (training)")
history = st.session_state.setdefault("assistant_history", [])
for role, text in history:
    st.chat_message(role).markdown(text)
request = st.chat_input("e.g. how do the images in /data/a differ from /data/b?")
if request:
    history.append(("user", request))
    st.chat_message("user").markdown(request)
    result = None
    with running("Planning and running…", "Done", "The request failed"):
        guard = Guardrails(
            allowed_dirs=[Path(line.strip()) for line in allowed.splitlines() if line.strip()],
            confirmed=confirmed,
        )
        config = settings()  # read here: the flow runs in a thread of its own
        result = with_progress(lambda: ask(request, settings=config, guard=guard))
    if result is not None:
        lines = [
            f"- **{o.tool}** ({', '.join(f'{k}={v}' for k, v in o.arguments.items())}): "
            f"{o.status}. {o.summary}"
            + (f" [Report](runs?run={run_id(Path(o.report).parent)})" if o.report else "")
            for o in result.outcomes
        ]
        answer = "\n".join(lines)
        history.append(("assistant", answer))
        st.chat_message("assistant").markdown(answer)
