"""The world CLIP's quality and its cache key."""

from clipflows.components.clip import ClipEncoder
from clipflows.components.world_eval import evaluate_world, held_out_set


def test_world_clip_zero_shot_colour_shape_accuracy_is_at_least_70_percent(
    world_spec, settings, tmp_path
):
    encoder = ClipEncoder(world_spec, settings=settings)
    result = evaluate_world(encoder, held_out_set(tmp_path / "held-out", count=480))
    assert result.images == 480 and result.classes == 24
    assert result.accuracy >= 0.70, result
    assert result.colour_accuracy >= result.accuracy and result.shape_accuracy >= result.accuracy


def test_world_recipe_is_cached_by_its_config(world_clip_dir):
    from clipflows.components.world_clip import WorldClipRecipe
    from clipflows.components.world_clip import world_clip_dir as folder_for

    assert world_clip_dir.parent == folder_for(world_clip_dir.parents[2], WorldClipRecipe())
    changed = WorldClipRecipe(train_images=1000)
    assert folder_for(world_clip_dir.parents[2], changed) != world_clip_dir.parent
