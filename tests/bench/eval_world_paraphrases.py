"""Does the world CLIP read words it was not taught? Zero-shot accuracy on 480 held-out images
(24 colour x shape classes) with each class worded in the world's words, the training lexicon's
words, and words no caption ever used, for the world CLIP and, with --baseline, the recipe that
trained its own text tower on the world's words alone (trained once and cached).

    python tests/bench/eval_world_paraphrases.py [--baseline] [SPEC ...]
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.settings import load_settings
from clipflows.components.world.evaluation import held_out_set, paraphrase_accuracy
from clipflows.components.world.model import TINY_ARCHITECTURE, WorldClipRecipe, ensure_world_clip
from clipflows.components.world.scenes import WorldConfig


def baseline_spec(settings) -> str:
    """The world CLIP as it was: its own text tower, trained on the world's words only."""
    recipe = WorldClipRecipe(
        world=WorldConfig(),
        training=WorldClipRecipe().training.model_copy(
            update={"architecture": TINY_ARCHITECTURE, "lock_text": False}
        ),
    )
    return f"local-dir:{ensure_world_clip(settings.cache_dir, recipe)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", default=["world"])
    parser.add_argument("--baseline", action="store_true", help="also the own-tower recipe")
    args = parser.parse_args()
    settings = load_settings()
    folder = held_out_set(settings.cache_dir / "world-eval")
    specs = {spec: spec for spec in args.specs}
    if args.baseline:
        specs["own text tower (world words only)"] = baseline_spec(settings)
    rows = {
        name: paraphrase_accuracy(ClipEncoder(spec, settings=settings), folder)
        for name, spec in specs.items()
    }
    table = Table("wording", "example", *rows)
    first = next(iter(rows.values()))
    for index, wording in enumerate(first):
        table.add_row(
            wording.wording,
            wording.examples[0],
            *(f"{results[index].accuracy:.1%}" for results in rows.values()),
        )
    Console().print(table)


if __name__ == "__main__":
    main()
