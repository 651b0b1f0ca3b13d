"""The demo: every workflow end to end on the embedded defaults, offline."""

from __future__ import annotations

from prefect import flow, task
from pydantic import BaseModel

from clipflows.components.captioning import WORLD_VOCABULARY
from clipflows.components.clip import ClipEncoder
from clipflows.components.diff_eval import Evaluation, evaluate, keyword_judge
from clipflows.components.ranking import HypothesisScore
from clipflows.components.settings import Settings, load_settings
from clipflows.components.world_eval import WorldAccuracy, evaluate_world, held_out_set
from clipflows.components.world_sets import WORLD_SET_PAIRS, write_pair

from .set_difference import set_difference
from .train_clip import world_clip_task


class SetDifferenceDemo(BaseModel):
    pair: str
    truth: str
    top: list[HypothesisScore]
    evaluation: Evaluation
    report: str | None


class DemoResult(BaseModel):
    clip_spec: str
    world: WorldAccuracy
    set_difference: SetDifferenceDemo


@task(name="world-zero-shot")
def world_zero_shot_task(settings: Settings) -> WorldAccuracy:
    """Zero-shot colour x shape accuracy of a CLIP on held-out world images."""
    encoder = ClipEncoder(settings=settings)
    folder = held_out_set(settings.cache_dir / "world-eval")
    return evaluate_world(encoder, folder)


def set_difference_demo(settings: Settings) -> SetDifferenceDemo:
    """Two world sets that differ by colour: does the top hypothesis name it?"""
    pair = WORLD_SET_PAIRS[0]
    set_a, set_b = write_pair(pair, settings.cache_dir / "world-sets")
    result = set_difference(
        str(set_a),
        str(set_b),
        settings=settings,
        names=("red set", "blue set"),
        vocabulary=WORLD_VOCABULARY,
        vocabulary_candidates=True,
        output=str(settings.cache_dir / "reports" / pair.name),
    )
    evaluation = evaluate(result.ranking, keyword_judge(pair.words_a, pair.words_b))
    return SetDifferenceDemo(
        pair=pair.name,
        truth=pair.truth,
        top=result.ranking[:5],
        evaluation=evaluation,
        report=result.report.get("report.html"),
    )


@flow(name="demo")
def demo_flow(settings: Settings | None = None) -> DemoResult:
    """The world CLIP's zero-shot accuracy, then a set-difference run on world sets."""
    settings = settings or load_settings()
    if settings.clip == "world":
        settings = settings.model_copy(update={"clip": "local-dir:" + world_clip_task(settings)})
    return DemoResult(
        clip_spec=settings.clip,
        world=world_zero_shot_task(settings),
        set_difference=set_difference_demo(settings),
    )
