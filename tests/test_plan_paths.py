"""Grounding a plan's paths in the request (agents/plan_paths.py), on given plans (no LLM)."""

from __future__ import annotations

from clipflows.agents.plan_paths import ground_paths, request_paths
from clipflows.agents.planner import (
    ClassifyCall,
    Decline,
    Plan,
    SetDifferenceCall,
    TrainClipCall,
    ground_plan,
)


def test_request_paths_are_words_with_a_slash_or_a_files_suffix():
    request = "Compare ./shots/2024/ with 'shots/2025', e.g. classify pets.csv. Thanks!"
    assert request_paths(request) == ["shots/2024", "shots/2025", "pets.csv"]
    assert request_paths("book me a table for two tonight") == []


def test_a_path_with_the_wrong_parent_goes_back_to_the_users():
    request = "I'd like my own CLIP trained from images/art_captions, stored at models/art."
    steps = [TrainClipCall(tool="train_clip", data="models/art_captions", output="models/art")]
    [step] = ground_paths(steps, request)
    assert (step.data, step.output) == ("images/art_captions", "models/art")


def test_a_folder_used_twice_gives_its_second_use_to_the_folder_left_out():
    request = (
        "Classify images/cars by car model, and also tell me how images/cars_2010 differs from "
        "images/cars_2020."
    )
    steps = [
        ClassifyCall(tool="classify", dataset="images/cars", context="car models"),
        SetDifferenceCall(tool="set_difference", set_a="images/cars", set_b="images/cars_2020"),
    ]
    classify, difference = ground_paths(steps, request)
    assert classify.dataset == "images/cars" and classify.context == "car models"
    assert (difference.set_a, difference.set_b) == ("images/cars_2010", "images/cars_2020")


def test_right_paths_a_folder_named_twice_and_pathless_requests_are_left_alone():
    twice = "Classify photos/birds, then compare photos/birds with photos/bats."
    steps = [
        ClassifyCall(tool="classify", dataset="./photos/birds/"),
        SetDifferenceCall(tool="set_difference", set_a="photos/birds", set_b="photos/bats"),
    ]
    assert ground_paths(steps, twice) == steps  # as written, give or take './' and '/'
    it = "Classify photos/birds and compare them with photos/bats."  # used twice, named once
    assert ground_paths(steps, it) == steps  # no folder was left out: nothing to move
    decline = [Decline(tool="none", reason="not an image task")]
    assert ground_paths(decline, "book me a table for two tonight") == decline


def test_nothing_is_invented_unlike_paths_and_ties_stay_as_planned():
    request = "Compare shots/summer with shots/winter."
    unlike = [SetDifferenceCall(tool="set_difference", set_a="/etc/passwd", set_b="shots/winter")]
    assert ground_paths(unlike, request) == unlike  # nothing in the request looks like it
    tie = [SetDifferenceCall(tool="set_difference", set_a="shots/spring", set_b="shots/autumn")]
    [step] = ground_paths(tie, "Compare shots/summer1 with shots/summer2.")
    assert (step.set_a, step.set_b) == ("shots/spring", "shots/autumn")  # both equally far


def test_a_grounded_path_outside_the_allowed_folders_is_still_refused():
    from clipflows.flows.assistant import Guardrails, refusal

    request = "What separates secrets/a from data/b?"
    proposed = Plan(
        steps=[SetDifferenceCall(tool="set_difference", set_a="secret/a", set_b="data/b")]
    )
    [step] = ground_plan(proposed, request).steps
    assert step.set_a == "secrets/a"
    guard = Guardrails(allowed_dirs=["data"])
    assert refusal({"set_a": step.set_a, "set_b": step.set_b}, guard) is not None
