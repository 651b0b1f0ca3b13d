"""Sound separation (CLIPSep): an audio file and a query in words, the separated sound out."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from clipflows.components.separation.mixtures import demo_mixture
from clipflows.components.separation.store import DEFAULT_SEPARATOR
from clipflows.flows.separation import separate
from clipflows.ui.common import run_dir, running, save_uploads, settings, with_progress

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
    with running("Separating…", "Separation done"):
        output, app_settings = run_dir("separation"), settings()
        if upload is not None:
            mixture = next(save_uploads([upload], "audio", AUDIO_TYPES).iterdir())
        elif source == "Upload":
            raise ValueError("Choose a recording to upload first.")
        else:
            sounds, audio = DEFAULT_SEPARATOR.sources, DEFAULT_SEPARATOR.audio
            mixture, _ = demo_mixture(output, sounds, audio, settings().cache_dir)
        result = with_progress(
            lambda: separate(
                str(mixture),
                query,
                str(output / "separated.wav"),
                settings=app_settings,
                report=str(output),  # listed on the Runs page, as every flow's report is
            )
        )
        st.session_state["separation"] = (str(mixture), result)

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
