"""Set difference (VisDiff): two image sets in, ranked differences out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from clipflows.agents.proposer import ProposerConfig
from clipflows.components.clip.loading import require_weights
from clipflows.components.set_difference import defaults
from clipflows.components.set_difference.captioning import GENERAL_VOCABULARY
from clipflows.components.set_difference.ranking import p_text
from clipflows.components.set_difference.report import ranked_rows
from clipflows.components.settings import world_unless_named
from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, write_pair
from clipflows.components.world.vocabulary import WORLD_VOCABULARY
from clipflows.flows.set_difference import set_difference
from clipflows.ui.charts import score_histogram
from clipflows.ui.common import (
    IMAGE_TYPES,
    image_grid,
    run_dir,
    running,
    save_uploads,
    settings,
    with_progress,
)
from clipflows.ui.models import clip_encoder

st.title("Set difference")
st.caption("How do the images of set A differ from set B? Proposed by the LLM, ranked by CLIP.")

source = st.radio(
    "Images", ["Folders on the server", "Upload", "Sample world sets"], horizontal=True
)
params = st.query_params
if source == "Folders on the server":
    folder_a = st.text_input("Set A folder", params.get("set_a", ""))
    folder_b = st.text_input("Set B folder", params.get("set_b", ""))
elif source == "Upload":
    uploads_a = st.file_uploader(
        "Set A (images or a zip)", IMAGE_TYPES + ["zip"], accept_multiple_files=True
    )
    uploads_b = st.file_uploader(
        "Set B (images or a zip)", IMAGE_TYPES + ["zip"], accept_multiple_files=True
    )
else:
    pair_name = st.selectbox("World pair", [p.name for p in WORLD_SET_PAIRS])

with st.expander("Options"):
    llm_default = params.get("llm", "0" if source == "Sample world sets" else "1") == "1"
    llm_proposals = st.checkbox("LLM proposals", value=llm_default)
    world_default = params.get("vocabulary", "") == "world" or source == "Sample world sets"
    vocabulary_name = st.selectbox(
        "Caption vocabulary", ["general", "world"], index=int(world_default)
    )
    candidates = st.checkbox(
        "Also rank every vocabulary phrase", value=defaults.VOCABULARY_CANDIDATES
    )
    rounds = st.slider("Proposal rounds", 1, 5, defaults.PROPOSAL_ROUNDS)

if st.button("Run", type="primary"):
    with running("Running set difference…", "Set difference done"):
        # World renders get the world CLIP, named explicitly; a user's images the configured
        # CLIP, whose missing weights stop the run here with the ways out.
        app_settings = settings()
        if source == "Sample world sets":
            app_settings = world_unless_named(app_settings)
        require_weights(app_settings.clip)
        if source == "Folders on the server":
            set_a, set_b, names = (
                folder_a,
                folder_b,
                (Path(folder_a).name or "A", Path(folder_b).name or "B"),
            )
        elif source == "Upload":
            set_a = str(save_uploads(uploads_a or [], "set-a", IMAGE_TYPES))
            set_b = str(save_uploads(uploads_b or [], "set-b", IMAGE_TYPES))
            names = ("A", "B")
        else:
            pair = next(p for p in WORLD_SET_PAIRS if p.name == pair_name)
            set_a, set_b = (
                str(p) for p in write_pair(pair, settings().cache_dir / "world-sets", count=30)
            )
            names = (pair.phrase_a, pair.phrase_b)
        st.write(f"{names[0]} vs {names[1]}")
        output = run_dir("set-difference")
        st.session_state["set_difference"] = with_progress(
            lambda: set_difference(
                set_a,
                set_b,
                settings=app_settings,
                names=names,
                vocabulary=WORLD_VOCABULARY if vocabulary_name == "world" else GENERAL_VOCABULARY,
                vocabulary_candidates=candidates,
                llm_proposals=llm_proposals,
                proposer=ProposerConfig(rounds=rounds),
                output=str(output),
            )
        )
        st.session_state["set_difference_settings"] = app_settings

result = st.session_state.get("set_difference")
if result is not None:
    st.subheader(f"How {result.set_a.name} differs from {result.set_b.name}")
    for warning in result.warnings:
        st.warning(warning)
    st.caption("Made with: " + "; ".join(result.provenance.lines()))
    best = result.ranking[0]  # the significant ones come first
    found = (
        f"**{best.text}** (more true of {best.direction}, AUROC {best.auroc:.2f}, "
        f"adjusted p {p_text(best.p_adjusted)})"
    )
    st.markdown(
        f"Top difference: {found}"
        if best.significant
        else f"No significant difference after correcting for {len(result.ranking)} hypotheses; "
        f"the best by AUROC: {found}"
    )
    st.dataframe(pd.DataFrame(ranked_rows(result.ranking)), hide_index=True)
    if result.set_a.skipped or result.set_b.skipped:
        st.warning(
            f"{len(result.set_a.skipped) + len(result.set_b.skipped)} unreadable images skipped."
        )
    choice = st.selectbox(
        "Hypothesis", range(len(result.ranking)), format_func=lambda i: result.ranking[i].text
    )
    score = result.ranking[choice]
    for label, summary, top, bottom in (
        ("A", result.set_a, score.top_a, score.bottom_a),
        ("B", result.set_b, score.top_b, score.bottom_b),
    ):
        st.markdown(f"**Set {label} ({summary.name})**: best match, then worst match")
        image_grid([summary.paths[i] for i in top])
        image_grid([summary.paths[i] for i in bottom])
    encoder = clip_encoder(st.session_state.get("set_difference_settings", settings()))
    text = encoder.encode_texts([score.text])[0]
    scores = {
        f"{label} ({s.name})": encoder.encode_images(s.paths).vectors @ text
        for label, s in (("A", result.set_a), ("B", result.set_b))
    }
    st.altair_chart(score_histogram(scores, score.text), width="stretch")
    st.download_button("result.json", result.model_dump_json(indent=2), "result.json")
