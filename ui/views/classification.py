"""Classification (FuDD): zero-shot classes, differential descriptions, fusion."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from clipflows.components.classification.descriptions import read_fudd_file
from clipflows.components.classification.report import changed_text, interval_text
from clipflows.components.classification.sources import LLM_DESCRIPTIONS, WORLD_TASK
from clipflows.components.clip.loading import require_weights
from clipflows.components.errors import ClipflowsError
from clipflows.components.settings import world_unless_named
from clipflows.flows.classify import ClassifyConfig, classify, description_cost, load_dataset
from clipflows.ui.common import image_grid, run_dir, running, save_uploads, settings, with_progress

MANY_CALLS = 36  # more LLM calls than this, and the page says what the run will cost first

st.title("Classification with differential descriptions")
st.caption(
    "Zero-shot CLIP keeps each image's top-k classes; an LLM describes how each confusable pair "
    "differs; CLIP rescores; both passes are fused."
)
source = st.radio(
    "Dataset",
    ["World task (24 confusable classes)", "Folder per class on the server", "CSV of path,label"],
)
dataset, classes = WORLD_TASK, None
if source.startswith("Folder"):
    dataset = st.text_input(
        "Folder with one sub-folder per class", st.query_params.get("dataset", "")
    )
elif source.startswith("CSV"):
    dataset = st.text_input("CSV file on the server", "")
    names = st.text_input("Class names, comma-separated, in label order (optional)", "")
    classes = [n.strip() for n in names.split(",") if n.strip()] or None
descriptions = st.selectbox(
    "Descriptions",
    [LLM_DESCRIPTIONS, WORLD_TASK, "FuDD file (upload)"],
    help="world: ground truth, world task only",
)
description_file = (
    st.file_uploader("FuDD description JSON", ["json"]) if descriptions.startswith("FuDD") else None
)
k = st.slider("Ambiguity set size k", 2, 20, 5)
context = st.text_input("What the images are (for the LLM)", "")
if descriptions == LLM_DESCRIPTIONS and dataset:
    try:  # listing the images is cheap; a dataset that cannot be read is reported by Run
        cost = description_cost(load_dataset(dataset, settings(), classes), k, settings())
    except (ClipflowsError, OSError):
        cost = None
    if cost is not None and cost.calls > MANY_CALLS:
        st.info(cost.text(k))

if st.button("Run", type="primary"):
    with running("Classifying…", "Classification done"):
        # The world task's renders get the world CLIP, named; a user's images the configured
        # CLIP, whose missing weights stop the run here with the ways out.
        app_settings = settings()
        if dataset == WORLD_TASK:
            app_settings = world_unless_named(app_settings)
        require_weights(app_settings.clip)
        if description_file is not None:
            folder = save_uploads([description_file], "descriptions", ["json"])
            descriptions = str(next(folder.iterdir()))
        config = ClassifyConfig(descriptions=descriptions, k=k, context=context or None)
        output = str(run_dir("classify"))
        st.session_state["classification"] = with_progress(
            lambda: classify(dataset, classes, settings=app_settings, config=config, output=output)
        )

result = st.session_state.get("classification")
if result is not None:
    for warning in result.warnings:
        st.warning(warning)
    st.subheader("Accuracy per method (test split)")
    table = pd.DataFrame(
        {
            "method": [m.method for m in result.methods],
            "accuracy": [round(100 * m.accuracy, 1) for m in result.methods],  # percent, as the CLI
            "95% interval": [interval_text(m) for m in result.methods],
            "note": [m.note for m in result.methods],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={"accuracy": st.column_config.NumberColumn("accuracy", format="%.1f%%")},
    )
    st.write(
        f"{result.pairs_occurring} of {result.pairs_possible} class pairs share an ambiguity set "
        f"(k={result.k}); {result.llm_calls_pairs} LLM calls for them; fusion weight "
        f"{result.fusion.weight:.2f}."
    )
    if result.chance is not None:
        st.caption(f"To beat: {result.chance.text()}.")
    st.caption("Made with: " + "; ".join(result.provenance.lines()))
    st.subheader("Most-confused pairs and their descriptions")
    book = read_fudd_file(result.report["descriptions.json"], result.class_names)
    for pair in result.confused[:5]:
        i, j = book.index(pair.class_a), book.index(pair.class_b)
        first, second = book.descriptions_of(i, j)
        with st.expander(f"{pair.class_a} / {pair.class_b}: {pair.count} confusions"):
            st.table({pair.class_a: first or ["(none)"], pair.class_b: second or ["(none)"]})
    for label, examples in (("Fixed by fusion", result.fixed), ("Broken by fusion", result.broken)):
        st.subheader(label)
        image_grid([e.path for e in examples], [changed_text(e) for e in examples])
    st.download_button("result.json", result.model_dump_json(indent=2), "result.json")
