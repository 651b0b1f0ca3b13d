"""The assistant: enforced plans, checked paths, step limit, confirmation, real execution."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from clipflows.agents.planner import Plan, SetDifferenceCall
from clipflows.components.settings import LLMSettings
from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, write_pair
from clipflows.flows.assistant import Guardrails, ask


@pytest.fixture
def world_settings(settings, world_spec):
    return settings.model_copy(update={"clip": world_spec})


@pytest.fixture
def world_sets(tmp_path):
    return write_pair(WORLD_SET_PAIRS[0], tmp_path / "allowed", count=20)


def step(set_a, set_b) -> SetDifferenceCall:
    return SetDifferenceCall(tool="set_difference", set_a=str(set_a), set_b=str(set_b))


def test_an_invalid_llm_plan_is_one_failed_outcome_and_runs_nothing(world_settings, tmp_path):
    from clipflows.components.settings import LLMSettings

    # max_tokens too small for any complete plan: every answer is cut off, so none validates.
    settings = world_settings.model_copy(update={"llm": LLMSettings(max_tokens=4)})
    result = ask.fn("compare a and b", settings, Guardrails(allowed_dirs=[tmp_path]))
    assert result.plan is None and [o.status for o in result.outcomes] == ["failed"]
    assert "No valid plan" in result.answer
    assert not (world_settings.cache_dir / "assistant-runs").exists()


def test_invalid_plans_are_rejected_by_the_schema():
    with pytest.raises(ValidationError):
        Plan.model_validate({"steps": [{"tool": "rm_rf", "path": "/"}]})
    with pytest.raises(ValidationError):
        Plan.model_validate({"steps": [{"tool": "set_difference", "set_a": "a"}]})
    with pytest.raises(ValidationError):
        Plan.model_validate({"steps": [{"tool": "none", "reason": "x"}] * 4})
    with pytest.raises(ValidationError):
        Plan.model_validate({"steps": [{"tool": "classify", "dataset": "x" * 500}]})


def test_a_correct_plan_runs_and_reports(world_settings, world_sets, tmp_path, prefect_harness):
    guard = Guardrails(allowed_dirs=[tmp_path / "allowed"])
    result = ask("", world_settings, guard, Plan(steps=[step(*world_sets)]))
    (outcome,) = result.outcomes
    assert outcome.status == "done", outcome.summary
    assert outcome.summary.startswith("Top difference:") and outcome.report.endswith(".html")
    assert "set_difference: done" in result.answer


def test_folders_outside_the_allowed_ones_are_refused(world_settings, world_sets, tmp_path):
    guard = Guardrails(allowed_dirs=[tmp_path / "elsewhere"])
    escape = tmp_path / "elsewhere" / ".." / "allowed"
    result = ask.fn("", world_settings, guard, Plan(steps=[step(world_sets[0], escape)]))
    (outcome,) = result.outcomes
    assert outcome.status == "refused" and "outside the allowed folders" in outcome.summary
    assert not (world_settings.cache_dir / "assistant-runs").exists()


def test_step_limit_confirmation_and_declines(world_settings, tmp_path):
    steps = [
        {"tool": "none", "reason": "cannot book flights"},
        {"tool": "train_clip", "data": str(tmp_path), "output": str(tmp_path / "m")},
        {"tool": "none", "reason": "third"},
    ]
    guard = Guardrails(allowed_dirs=[tmp_path], max_steps=2)
    result = ask.fn("", world_settings, guard, Plan.model_validate({"steps": steps}))
    assert [o.status for o in result.outcomes] == ["declined", "needs confirmation", "refused"]
    assert "Step limit (2)" in result.outcomes[2].summary


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["embedded", "openai-compatible"])
def test_the_llm_plans_a_schema_valid_request(
    backend, world_settings, world_sets, tmp_path, prefect_harness, request
):
    """The 135M model's choice is not asserted; the plumbing is: a valid plan, checked steps."""
    settings = world_settings
    if backend == "openai-compatible":
        server = request.getfixturevalue("tiny_server")
        url = f"http://127.0.0.1:{server.server_port}/v1"
        llm = LLMSettings(backend=backend, base_url=url, model="smollm2")
        settings = world_settings.model_copy(update={"llm": llm})
    set_a, set_b = world_sets
    question = f"How do the images in {set_a} differ from the images in {set_b}?"
    result = ask(question, settings, Guardrails(allowed_dirs=[tmp_path / "allowed"]))
    if result.plan is None:  # the 135M model may loop past max_tokens: one failed outcome
        assert [o.status for o in result.outcomes] == ["failed"]
        assert "No valid plan" in result.answer
        return
    # One outcome per planned step, in plan order, each reported in the answer.
    assert [o.tool for o in result.outcomes] == [s.tool for s in result.plan.steps]
    for outcome in result.outcomes:
        assert f"{outcome.tool}: {outcome.status}." in result.answer
        if outcome.status == "done" and outcome.report:
            assert Path(outcome.report).exists()
        if outcome.tool == "set_difference" and outcome.status == "refused":
            assert "outside the allowed folders" in outcome.summary
    print([(o.tool, o.arguments, o.status) for o in result.outcomes])


def _inside_and_outside(tmp_path: Path) -> tuple[Path, Path]:
    """An allowed folder with one image, and a file outside it."""
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (allowed / "cat.png").write_bytes(b"png")
    (outside / "secret.png").write_bytes(b"secret")
    return allowed, outside / "secret.png"


@pytest.mark.parametrize("how", ["absolute", "relative", "symlink"])
def test_a_dataset_csv_listing_a_file_outside_the_allowed_folders_is_refused(
    how, settings, tmp_path
):
    allowed, secret = _inside_and_outside(tmp_path)
    listed = {"absolute": str(secret), "relative": "../outside/secret.png", "symlink": "link.png"}
    (allowed / "link.png").symlink_to(secret)
    (allowed / "labels.csv").write_text(f"path,label\ncat.png,cat\n{listed[how]},dog\n")
    # A CLIP that does not exist: had the step run, it would fail instead of being refused.
    settings = settings.model_copy(update={"clip": f"local-dir:{tmp_path / 'no-model'}"})
    plan_ = Plan.model_validate(
        {"steps": [{"tool": "classify", "dataset": str(allowed / "labels.csv")}]}
    )
    result = ask.fn("", settings, Guardrails(allowed_dirs=[allowed]), plan_)
    (outcome,) = result.outcomes
    assert outcome.status == "refused", outcome.summary
    assert str(secret) in outcome.summary and "outside the allowed folders" in outcome.summary
    assert not (settings.cache_dir / "assistant-runs").exists()


def test_a_class_folder_linked_outside_the_allowed_folders_is_refused(settings, tmp_path):
    allowed, secret = _inside_and_outside(tmp_path)
    (allowed / "data" / "cat").mkdir(parents=True)
    (allowed / "data" / "cat" / "a.png").write_bytes(b"png")
    (allowed / "data" / "dog").symlink_to(secret.parent, target_is_directory=True)
    settings = settings.model_copy(update={"clip": f"local-dir:{tmp_path / 'no-model'}"})
    plan_ = Plan.model_validate({"steps": [{"tool": "classify", "dataset": str(allowed / "data")}]})
    (outcome,) = ask.fn("", settings, Guardrails(allowed_dirs=[allowed]), plan_).outcomes
    assert outcome.status == "refused" and str(secret) in outcome.summary, outcome.summary


@pytest.mark.parametrize("image", ["../../outside/secret.png", "ABSOLUTE"])
def test_captions_naming_a_file_outside_the_allowed_folders_are_refused(image, settings, tmp_path):
    allowed, secret = _inside_and_outside(tmp_path)
    image = str(secret) if image == "ABSOLUTE" else image
    data = allowed / "captioned"
    data.mkdir()
    (data / "captions.jsonl").write_text(
        f'{{"image": "../cat.png", "caption": "a cat"}}\n{{"image": "{image}", "caption": "x"}}\n'
    )
    steps = [{"tool": "train_clip", "data": str(data), "output": str(allowed / "model")}]
    guard = Guardrails(allowed_dirs=[allowed])  # not confirmed: refusal comes first
    (outcome,) = ask.fn("", settings, guard, Plan.model_validate({"steps": steps})).outcomes
    assert outcome.status == "refused" and str(secret) in outcome.summary, outcome.summary
    # With every image inside, the same step only waits for confirmation.
    (data / "captions.jsonl").write_text('{"image": "../cat.png", "caption": "a cat"}\n')
    (outcome,) = ask.fn("", settings, guard, Plan.model_validate({"steps": steps})).outcomes
    assert outcome.status == "needs confirmation", outcome.summary


def test_the_llm_writes_the_folder_asked_about_and_the_words_each_step_answers():
    schema = Plan.model_json_schema()["$defs"]["SetDifferenceCall"]
    assert list(schema["properties"])[:2] == ["asked", "tool"]
    assert {"asked", "asked_about", "reference"} <= set(schema["required"])
    answer = {"asked": "what's odd about b", "tool": "set_difference", "asked_about": "b"}
    planned = Plan.model_validate({"steps": [{**answer, "reference": "a"}]}).steps[0]
    assert (planned.set_a, planned.set_b) == ("b", "a")  # flows read set_a / set_b
    assert step("x", "y").asked == ""  # steps built in code need not quote a request
    with pytest.raises(ValidationError, match="two different folders"):
        Plan.model_validate({"steps": [{**answer, "reference": "b/"}]})
