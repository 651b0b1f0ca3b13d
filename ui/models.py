"""Models loaded once per server process and shared by every session."""

from __future__ import annotations

import streamlit as st

from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.settings import Settings


@st.cache_resource(hash_funcs={Settings: lambda s: s.model_dump_json()})
def clip_encoder(settings: Settings) -> ClipEncoder:
    """The CLIP encoder of the settings' spec (the world CLIP trains on first use)."""
    return ClipEncoder(settings=settings)
