"""The one place set difference's defaults live: the flow, the CLI, the web app, the assistant
and the deployments all read them here, so the same question gets the same answer whichever
door it comes through. Plain values, so the CLI can read them without importing the flow."""

from __future__ import annotations

from enum import StrEnum


class Captioner(StrEnum):
    """Who captions the sampled images: CLIP choosing vocabulary phrases, BLIP, or the LLM."""

    CLIP_VOCABULARY = "clip-vocabulary"
    BLIP = "blip"
    VLM = "vlm"


CAPTIONER = Captioner.CLIP_VOCABULARY  # needs no weights beyond the CLIP
VOCABULARY_CANDIDATES = True  # rank the captioning vocabulary's phrases beside the LLM's
PROPOSAL_ROUNDS = 2  # proposer calls per direction, each on other sampled captions
SAMPLE_SIZE = 12  # captions per set shown to the LLM in each round
ALPHA = 0.05
CORRECTION = "holm"
