"""The planner's no-LLM baseline: keywords pick the tool, paths fill it in written order."""

from __future__ import annotations

from clipflows.agents.keyword_planner import keyword_plan


def tools_and_paths(request: str) -> list[tuple[str, dict]]:
    return [
        (s.tool, {k: v for k, v in s.model_dump().items() if k not in ("tool", "asked")})
        for s in keyword_plan(request).steps
    ]


def test_two_folders_are_a_set_difference_in_the_order_written():
    assert tools_and_paths("how do photos in data/a differ from data/b?") == [
        ("set_difference", {"set_a": "data/a", "set_b": "data/b"})
    ]


def test_training_words_with_two_folders_train_and_one_folder_with_class_words_classifies():
    assert tools_and_paths("train a CLIP on data/caps and save it to models/m")[0] == (
        "train_clip",
        {"data": "data/caps", "output": "models/m"},
    )
    ((tool, arguments),) = tools_and_paths("which species is each bird in images/birds?")
    assert tool == "classify" and arguments["dataset"] == "images/birds"
    assert "images/birds" not in arguments["context"] and "bird" in arguments["context"]


def test_clauses_become_steps_and_a_request_without_a_step_is_declined():
    steps = tools_and_paths("classify data/x by type, then compare data/y with data/z")
    assert [t for t, _ in steps] == ["classify", "set_difference"]
    assert tools_and_paths("write me a poem")[0][0] == "none"
    assert tools_and_paths("make a slideshow of images/wedding")[0][0] == "none"
