"""Music from a description with MusicGen, through audiocraft's own builders and class.

``debug`` builds audiocraft's tiny test models (random weights, offline, for tests and the
plumbing); a real name such as ``facebook/musicgen-small`` goes through ``MusicGen.get_pretrained``
and, when its weights are not in the Hugging Face cache and the hub cannot be reached, fails at
once with a MissingWeightsError that says how to get them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from clipflows.components.audio import write_audio
from clipflows.components.errors import MissingWeightsError


class GeneratedClip(BaseModel):
    path: str
    sample_rate: int
    duration_s: float
    model: str
    description: str


@contextmanager
def _offline_spacy() -> Iterator[None]:
    """audiocraft's whitespace tokenizer calls spacy.load('en_core_web_sm'), which downloads the
    model when it is missing; offline, fall back to a blank English pipeline instead. There is no
    setting for this in audiocraft, hence the temporary patch."""
    import spacy

    original = spacy.load

    def load(name, *args, **kwargs):
        try:
            return original(name, *args, **kwargs)
        except OSError:
            return spacy.blank("en")

    spacy.load = load
    try:
        yield
    finally:
        spacy.load = original


def _hub_weights_present(name: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(name, "state_dict.bin")
    return isinstance(found, str)


class MusicGenerator:
    """MusicGen behind one call: ``generate(description, duration_s, output)``."""

    def __init__(self, model: str = "facebook/musicgen-small", device: str = "cpu"):
        self.name = model
        self.device = device
        self._model = None

    def _load(self):
        if self._model is not None:
            return self._model
        from audiocraft.models import MusicGen, builders

        with _offline_spacy():
            if self.name == "debug":
                compression = builders.get_debug_compression_model(self.device)
                language = builders.get_debug_lm_model(self.device)
                model = MusicGen("debug", compression, language, max_duration=30.0)
                for conditioner in language.condition_provider.conditioners.values():
                    tokenizer = getattr(conditioner, "tokenizer", None)
                    if hasattr(tokenizer, "lemma"):
                        tokenizer.lemma = False  # a blank pipeline has no lemmatizer
            else:
                if not _hub_weights_present(self.name) and (
                    os.environ.get("HF_HUB_OFFLINE") or not _hub_reachable()
                ):
                    raise MissingWeightsError(
                        f"MusicGen {self.name!r} is not in the Hugging Face cache and the hub "
                        'cannot be reached. On a machine with network: `python -c "from '
                        f"audiocraft.models import MusicGen; MusicGen.get_pretrained('{self.name}')\"`"
                        ", then copy ~/.cache/huggingface/hub here; or use model 'debug'."
                    )
                model = MusicGen.get_pretrained(self.name, device=self.device)
        self._model = model
        return model

    def generate(self, description: str, duration_s: float, output: Path) -> GeneratedClip:
        import torch

        model = self._load()
        model.set_generation_params(duration=duration_s)
        with torch.inference_mode(), _offline_spacy():
            audio = model.generate([description])[0].mean(dim=0).cpu().numpy()
        path = write_audio(output, np.asarray(audio, np.float32), model.sample_rate)
        return GeneratedClip(
            path=str(path),
            sample_rate=model.sample_rate,
            duration_s=len(audio) / model.sample_rate,
            model=self.name,
            description=description,
        )


def _hub_reachable(timeout_s: float = 3.0) -> bool:
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout_s).close()
        return True
    except OSError:
        return False
