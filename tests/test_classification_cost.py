"""Before a run that asks the LLM many times, the page says how many calls and how long, from the
model's measured speed (issue 24.4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from clipflows.agents.llm_registry import llm_entry
from clipflows.components.classification.datasets import LabelledImages
from clipflows.components.settings import Settings
from clipflows.flows.classify import DESCRIPTION_TOKENS, description_cost

PAGE = Path(__file__).resolve().parents[1] / "ui" / "views" / "classification.py"


def _dataset(classes: int, images: int) -> LabelledImages:
    return LabelledImages(
        paths=[f"{i}.png" for i in range(images)],
        labels=[i % classes for i in range(images)],
        class_names=[f"class {c}" for c in range(classes)],
    )


def test_the_cost_is_every_pair_or_what_the_images_can_hold(tmp_path):
    settings = Settings(cache_dir=tmp_path)  # the tests' LLM, SmolLM2, measured here
    speed = llm_entry(settings.llm.model).measured["tokens_per_s"]["schema"]
    every_pair = description_cost(_dataset(24, 480), 5, settings)
    assert every_pair.calls == 276  # 24 * 23 / 2
    assert every_pair.seconds == pytest.approx(276 * DESCRIPTION_TOKENS / speed)
    assert description_cost(_dataset(24, 3), 5, settings).calls == 30  # 3 images, 10 pairs each
    assert description_cost(_dataset(24, 3), 2, settings).calls == 3
    assert "Up to 276 LLM calls" in every_pair.text(5) and "A smaller k" in every_pair.text(5)
    served = settings.model_copy(
        update={"llm": settings.llm.model_copy(update={"backend": "vllm"})}
    )
    unmeasured = description_cost(_dataset(24, 480), 5, served)
    assert unmeasured.seconds is None and "min" not in unmeasured.text(5)


def test_the_page_shows_the_cost_before_the_run(monkeypatch, tmp_path):
    monkeypatch.setenv("CLIPFLOWS_CACHE_DIR", str(tmp_path / "cache"))
    app = AppTest.from_file(str(PAGE), default_timeout=300).run()  # the world task, LLM
    assert not app.exception
    (info,) = [i.value for i in app.info]
    assert info.startswith("Up to 276 LLM calls") and "min at the model's measured speed" in info
    app.selectbox[0].set_value("world").run()  # ground-truth descriptions ask no LLM
    assert not app.info
