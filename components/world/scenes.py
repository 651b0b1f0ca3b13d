"""A procedural image-caption world: coloured shapes on plain backgrounds, with ground truth.

No CLIP weights can be downloaded on offline machines, so clipflows trains a tiny CLIP on this
world. Every image records its attributes (colour, shape, size, count, background), which later
workflows use as ground truth for set differences, confusable classes and judged captions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from pathlib import Path

from PIL import Image, ImageDraw
from pydantic import BaseModel, Field

from clipflows.components.files import write_text_whole
from clipflows.components.world.lexicon import TRAINING_WORDS, plural

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 170, 50),
    "blue": (30, 70, 220),
    "yellow": (240, 210, 20),
    "purple": (140, 40, 180),
    "orange": (245, 130, 20),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (250, 250, 250),
    "gray": (128, 128, 128),
    "black": (15, 15, 15),
}
SHAPES = ("circle", "square", "triangle", "star")
SIZES = {"small": (0.14, 0.2), "large": (0.24, 0.32)}  # radius as a fraction of the side
COUNT_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}
# Bump when rendering or caption wording changes: it is part of every cached world model's key.
WORLD_VERSION = 2


class WorldObject(BaseModel):
    colour: str
    shape: str
    size: str
    x: float
    y: float
    radius: float


class WorldImage(BaseModel):
    """Ground truth for one image."""

    image: str
    caption: str
    background: str
    objects: list[WorldObject]

    @property
    def count(self) -> int:
        return len(self.objects)


class WorldConfig(BaseModel):
    """What the world may contain. Restrict a list to build sets that differ by one attribute."""

    colours: list[str] = Field(default_factory=lambda: list(COLOURS))
    shapes: list[str] = Field(default_factory=lambda: list(SHAPES))
    sizes: list[str] = Field(default_factory=lambda: list(SIZES))
    backgrounds: list[str] = Field(default_factory=lambda: list(BACKGROUNDS))
    min_objects: int = Field(default=1, ge=1, le=4)
    max_objects: int = Field(default=2, ge=1, le=4)
    image_size: int = Field(default=64, ge=16, le=1024)
    paraphrase: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of attribute words a caption says in other words (lexicon's training "
        "words), so a CLIP trained on the captions reads more than the world's own words.",
    )
    seed: int = 0

    def check(self) -> WorldConfig:
        """Raise a ValueError naming any attribute value the renderer does not know."""
        for name, values, known in (
            ("colours", self.colours, COLOURS),
            ("shapes", self.shapes, SHAPES),
            ("sizes", self.sizes, SIZES),
            ("backgrounds", self.backgrounds, BACKGROUNDS),
        ):
            unknown = sorted(set(values) - set(known))
            if unknown or not values:
                raise ValueError(f"World {name} {unknown or '[]'} not in {sorted(known)}.")
        if self.min_objects > self.max_objects:
            raise ValueError("min_objects must not exceed max_objects.")
        return self


def count_phrase(count: int) -> str:
    """'one shape', 'two shapes', ..."""
    return f"{COUNT_WORDS[count]} {'shape' if count == 1 else 'shapes'}"


def describe(
    objects: list[WorldObject], background: str, rng: random.Random, paraphrase: float = 0.0
) -> str:
    """A caption for a scene, varying its wording so the text encoder learns composition; with
    ``paraphrase``, that share of attribute words comes from the lexicon's training words."""

    def say(value: str) -> str:
        if paraphrase and rng.random() < paraphrase:
            return rng.choice(TRAINING_WORDS[value])
        return value

    if len(objects) > 1 and len({(o.colour, o.shape) for o in objects}) == 1 and rng.random() < 0.5:
        o = objects[0]
        phrase = f"{COUNT_WORDS[len(objects)]} {say(o.colour)} {plural(say(o.shape))}"
    else:
        parts = []
        for o in objects:
            size = f"{say(o.size)} " if rng.random() < 0.5 else ""
            parts.append(with_article(f"{size}{say(o.colour)} {say(o.shape)}"))
        phrase = " and ".join(parts)
    if rng.random() < 0.6:
        phrase += f" on a {say(background)} background"
    if rng.random() < 0.3:  # counts, so that "two shapes" vs "one shape" is learnable
        phrase = f"{count_phrase(len(objects))}: {phrase}"
    return phrase


def shape_polygon(shape: str, x: float, y: float, r: float) -> list[tuple[float, float]]:
    if shape == "square":
        s = r * 0.85
        return [(x - s, y - s), (x + s, y - s), (x + s, y + s), (x - s, y + s)]
    if shape == "triangle":
        return [(x + r * math.cos(a), y + r * math.sin(a)) for a in _angles(3, -math.pi / 2)]
    if shape == "star":
        points = []
        for i, a in enumerate(_angles(10, -math.pi / 2)):
            radius = r if i % 2 == 0 else r * 0.45
            points.append((x + radius * math.cos(a), y + radius * math.sin(a)))
        return points
    raise ValueError(f"Unknown shape {shape!r}.")


def _angles(n: int, start: float) -> list[float]:
    return [start + 2 * math.pi * i / n for i in range(n)]


def render(objects: list[WorldObject], background: str, size: int) -> Image.Image:
    """Draw a scene at 4x resolution and downsample, for smooth edges."""
    scale = 4
    canvas = Image.new("RGB", (size * scale, size * scale), BACKGROUNDS[background])
    draw = ImageDraw.Draw(canvas)
    for o in objects:
        x, y, r = o.x * size * scale, o.y * size * scale, o.radius * size * scale
        if o.shape == "circle":
            draw.ellipse([x - r, y - r, x + r, y + r], fill=COLOURS[o.colour])
        else:
            draw.polygon(shape_polygon(o.shape, x, y, r), fill=COLOURS[o.colour])
    return canvas.resize((size, size), Image.Resampling.LANCZOS)


# A render's pixels are its palette's colours, but for the anti-aliased edges of its shapes;
# a photo's are mostly not. Measured here: 256 renders 0.91-0.99 (saved as JPEG at quality 75:
# 0.74 and up); scikit-image's 17 sample photos at most 0.48, but for the Hubble deep field
# (0.87: black sky, small bright dots, a world scene in all but name).
PALETTE_TOLERANCE = 12  # per channel, for resampling and mild JPEG compression
RENDERED_SHARE = 0.6


def palette_share(image: Image.Image) -> float:
    """The share of an RGB image's pixels within PALETTE_TOLERANCE of a world colour."""
    import numpy as np

    pixels = np.asarray(image.convert("RGB").resize((64, 64)), dtype=np.int16).reshape(-1, 1, 3)
    palette = np.array([*COLOURS.values(), *BACKGROUNDS.values()], dtype=np.int16)[None]
    return float((np.abs(pixels - palette).max(axis=2) <= PALETTE_TOLERANCE).any(axis=1).mean())


def looks_rendered(image: Image.Image) -> bool:
    """Whether an image looks like a world render (the world CLIP's domain, ``clip.named``)."""
    return palette_share(image) >= RENDERED_SHARE


def sample_scene(config: WorldConfig, rng: random.Random) -> tuple[list[WorldObject], str]:
    """Draw random non-overlapping objects and a background from the config's lists."""
    background = rng.choice(config.backgrounds)
    count = rng.randint(config.min_objects, config.max_objects)
    objects: list[WorldObject] = []
    while len(objects) < count:
        size = rng.choice(config.sizes)
        radius = rng.uniform(*SIZES[size]) * (0.75 if count > 2 else 1.0)
        for _ in range(100):
            x, y = rng.uniform(radius, 1 - radius), rng.uniform(radius, 1 - radius)
            if all(math.hypot(x - o.x, y - o.y) > radius + o.radius + 0.02 for o in objects):
                break
        else:  # no room left: start the scene again
            objects = []
            continue
        objects.append(
            WorldObject(
                colour=rng.choice(config.colours),
                shape=rng.choice(config.shapes),
                size=size,
                x=x,
                y=y,
                radius=radius,
            )
        )
    return objects, background


def generate(config: WorldConfig, count: int) -> Iterator[tuple[Image.Image, WorldImage]]:
    """Yield (image, ground truth) pairs; the same config and count give the same images."""
    config.check()
    rng = random.Random(config.seed)
    for index in range(count):
        objects, background = sample_scene(config, rng)
        caption = describe(objects, background, rng, config.paraphrase)
        record = WorldImage(
            image=f"images/{index:06d}.png", caption=caption, background=background, objects=objects
        )
        yield render(objects, background, config.image_size), record


def write_dataset(
    config: WorldConfig,
    count: int,
    folder: str | Path,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write ``images/`` and ``captions.jsonl`` (caption plus attributes) into ``folder``.

    The captions file is written last under a temporary name and renamed, so a folder with a
    captions file is always complete.
    """
    root = Path(folder)
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for index, (image, record) in enumerate(generate(config, count)):
        image.save(root / record.image)
        lines.append(record.model_dump_json())
        if progress:
            progress(index + 1, count)
    write_text_whole(config.model_dump_json(indent=2), root / "world_config.json")
    write_text_whole("\n".join(lines) + "\n", root / "captions.jsonl")
    return root


def read_dataset(folder: str | Path) -> list[WorldImage]:
    """Read the ground truth written by :func:`write_dataset`."""
    path = Path(folder) / "captions.jsonl"
    return [WorldImage.model_validate_json(line) for line in path.read_text().splitlines() if line]


def with_article(phrase: str) -> str:
    """'orange circle' -> 'an orange circle'."""
    return f"{'an' if phrase[:1] in 'aeiou' else 'a'} {phrase}"
