"""Sound separation (CLIPSep): an audio file and a query in words, the separated sound out."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from clipflows.flows.separation import sample_mixture, separate
from clipflows.ui.common import run_dir, save_uploads, settings, shown_errors

AUDIO_TYPES = ["wav", "flac", "ogg", "opus", "mp3"]

st.title("Sound separation")
st.caption(
    "Keep the sound a query describes. The cached model is small and trained on this machine's "
    "offline sounds: dogs, cows, ducks, frogs, piano, violin, trumpet and flute."
)
source = st.radio("Audio", ["Sample (held-out dog + violin)", "Upload"], horizontal=True)
upload = st.file_uploader("Recording", AUDIO_TYPES) if source == "Upload" else None
query = st.text_input("What to keep", "dog barking")

if st.button("Separate", type="primary"):
    with shown_errors(), st.status("Separating…", expanded=True) as status:
        output = run_dir("separation")
        if upload is not None:
            mixture = next(save_uploads([upload], "audio", AUDIO_TYPES).iterdir())
        elif source == "Upload":
            raise ValueError("Choose a recording to upload first.")
        else:
            mixture, _ = sample_mixture(output)
        st.write("Loading the model (trained on first use), encoding the query, separating…")
        result = separate(str(mixture), query, str(output / "separated.wav"), settings=settings())
        st.session_state["separation"] = (str(mixture), result)
        status.update(label="Separation done", state="complete")

if "separation" in st.session_state:
    mixture, result = st.session_state["separation"]
    for label, path in (
        ("Mixture", mixture),
        ("Separated", result.separated),
        ("Residual", result.residual),
    ):
        st.markdown(f"**{label}**")
        st.audio(Path(path).read_bytes(), format="audio/wav")
        st.download_button(f"{label}.wav", Path(path).read_bytes(), Path(path).name, key=label)
    st.image(result.figure, caption="mixture, mask, estimate (first two seconds)")
