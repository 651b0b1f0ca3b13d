"""Music for video: a video (sample or upload) and an optional wish in words; ranked tracks out."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from clipflows.components.music.recommender import INDEX  # the trained model's index file
from clipflows.components.music.tracks import packaged_tracks_dir
from clipflows.components.settings import world_unless_named
from clipflows.flows.music_library import describe_library
from clipflows.flows.music_retrieval import (
    default_model_dir,
    recommend,
    sample_videos,
    train_music_retrieval,
)
from clipflows.ui.common import run_dir, running, save_uploads, settings, with_progress

VIDEO_TYPES = ["mp4", "mov", "webm", "mkv", "avi", "m4v", "gif"]
GENERATORS = ["debug", "facebook/musicgen-small", "facebook/musicgen-medium"]
AUDIO_FORMATS = {".opus": "audio/ogg", ".ogg": "audio/ogg", ".mp3": "audio/mpeg"}

st.title("Music for video")
st.caption(
    "Tracks for a video, optionally steered by words. The model is trained on this machine: the "
    "28 packaged tracks are tagged (musicnn) and described by the LLM, and each music clip gets "
    "a synthetic video drawn from its tempo, loudness and mood. It has never seen real films."
)


def world_settings():
    """The app's settings with the world CLIP: the model learns from synthetic videos drawn in
    the world's shapes, so their frames (and a user's video) are encoded by it."""
    return world_unless_named(settings())


model_dir = default_model_dir(settings())

if not (model_dir / INDEX).is_file():
    st.info("No music retrieval model yet. Training takes a few minutes the first time.")
    if st.button("Describe the packaged tracks and train", type="primary"):
        with running("Training…", "Model trained", "Training failed"):
            app_settings = world_settings()  # read here: the flows run in a thread of their own
            library = app_settings.cache_dir / "music-library"
            st.write("Tagging and describing the 28 packaged tracks (cached after once)")
            with_progress(
                lambda: describe_library(str(packaged_tracks_dir()), str(library), app_settings)
            )
            st.write("Rendering paired videos, training, scoring held-out tracks")
            with_progress(lambda: train_music_retrieval(str(library), str(model_dir), app_settings))
        if (model_dir / INDEX).is_file():
            st.rerun()
    st.stop()

with st.expander("How well the model does on held-out tracks"):
    st.markdown((model_dir / "report.md").read_text())

samples = sample_videos(model_dir)
source = st.radio("Video", ["Sample (held-out synthetic video)", "Upload", "None (words only)"])
video: Path | None = None
if source.startswith("Sample"):
    chosen = st.selectbox("Sample", [p.name for p in samples])
    video = model_dir / "samples" / chosen if chosen else None
    if video:
        with st.columns([1, 4])[0]:  # the samples are 64x64: keep them small
            st.video(video.read_bytes())
upload = st.file_uploader("Video", VIDEO_TYPES) if source == "Upload" else None
wish = st.text_input("Your wish, in words (optional)", "")
k = st.slider("Tracks", 1, 10, 5)
generate = st.checkbox("Also generate a clip with MusicGen")
generator = st.selectbox("MusicGen model", GENERATORS, disabled=not generate)

if st.button("Find music", type="primary"):
    with running("Finding music…", "Done", "Finding music failed"):
        app_settings = world_settings()  # read here: the flow runs in a thread of its own
        output = run_dir("music")
        if upload is not None:
            video = next(save_uploads([upload], "video", VIDEO_TYPES).iterdir())
        elif source == "Upload":
            raise ValueError("Choose a video to upload first.")
        result = with_progress(
            lambda: recommend(
                str(video) if video else None,
                wish or None,
                k,
                str(model_dir),
                app_settings,
                generate=generate,
                generator=generator,
                generate_seconds=5.0,
                output=str(output),
            )
        )
        st.session_state["music"] = result

if "music" in st.session_state:
    result = st.session_state["music"]
    st.subheader("Tracks")
    for rank, item in enumerate(result.recommendations, start=1):
        track = Path(item.track.path)
        left, right = st.columns([2, 3])
        with left:
            st.markdown(f"**{rank}. {track.stem}** · {item.track.mood or ''} · {item.score:.3f}")
            st.audio(
                track.read_bytes(),
                format=AUDIO_FORMATS.get(track.suffix, "audio/wav"),
                start_time=int(item.start_s),
            )
        with right:
            st.markdown(f"{item.track.description}  \n*tags:* {item.track.tags_text()}")
            st.caption(f"best-matching part starts at {item.start_s:.0f} s")
    if result.generated:
        st.subheader(f"Generated ({result.generated.model})")
        st.audio(Path(result.generated.path).read_bytes(), format="audio/wav")
    if result.generation_error:
        st.warning(f"No clip generated: {result.generation_error}")
    st.download_button(
        "recommendations.json", result.model_dump_json(indent=1), "recommendations.json"
    )
