"""Does a model know these images? Narrow named models say which images they were made for.

A CLIP trained on a narrow domain (the world's coloured shapes) still scores any photo, and the
scores look like answers. Its own embedding space cannot be asked: the world CLIP maps photos
right among its renders (nearest-neighbour cosines of photos to renders lie inside the renders'
own spread, measured on scikit-image's sample photos). So each narrow named model registers a
test of its domain on the images themselves (``clip.named.NAMED_DOMAINS``), and a set whose
images mostly fail it gets a warning.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from pydantic import BaseModel, computed_field

from clipflows.components.clip.named import named_domain

if TYPE_CHECKING:
    from clipflows.components.clip.encoder import ClipEncoder

OUTSIDE_SHARE = 0.5  # a set is outside the domain when at least half its checked images are
CHECKED_IMAGES = 64  # images checked per set, sampled with a fixed seed (each is decoded again)


class DomainCheck(BaseModel):
    """How many of a set's (sampled) images are unlike the images the model was trained on."""

    model: str
    domain: str  # what the model was trained on, in words
    images: int  # images checked
    unlike: int

    @computed_field
    @property
    def outside(self) -> bool:
        return self.images > 0 and self.unlike >= OUTSIDE_SHARE * self.images

    def warning(self) -> str | None:
        """The sentence a report shows when the model does not know these images."""
        if not self.outside:
            return None
        return (
            f"{self.unlike} of {self.images} images are unlike anything CLIP '{self.model}' "
            f"was trained on ({self.domain}): its scores on them are not evidence. Use a CLIP "
            "trained on such images (the default, ViT-B-32:laion2b_s34b_b79k, or another "
            "--clip spec)."
        )


def check_encoder_domain(encoder: ClipEncoder, *image_sets: list[str]) -> list[DomainCheck]:
    """One check per set of image paths when the encoder's model is a named model of a narrow
    domain; [] for every other model, which has no domain to test."""
    name = str(encoder.spec)
    found = named_domain(name) if encoder.spec.kind == "named" else None
    if found is None:
        return []
    words, belongs = found
    checks = []
    for paths in image_sets:
        sample = random.Random(0).sample(list(paths), min(CHECKED_IMAGES, len(paths)))
        unlike = sum(not belongs(_rgb(path)) for path in sample)
        checks.append(DomainCheck(model=name, domain=words, images=len(sample), unlike=unlike))
    return checks


def _rgb(path: str | Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")
