"""The classification page shows what a result cannot be trusted for and how it was made (issue
24), on a result built by hand: no model runs."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from clipflows.components.classification.evidence import ChanceLevel
from clipflows.components.classification.report import MethodAccuracy
from clipflows.components.classification.second_pass import FusionRule
from clipflows.components.provenance import Provenance
from clipflows.flows.classify import ClassifyResult

PAGE = Path(__file__).resolve().parents[1] / "ui" / "views" / "classification.py"


def _collapsed_result(tmp_path: Path) -> ClassifyResult:
    (tmp_path / "descriptions.json").write_text("{}")
    return ClassifyResult(
        dataset="pets",
        class_names=["Bengal", "Persian"],
        images=30,
        k=2,
        pairs_occurring=1,
        pairs_possible=1,
        pairs_described=0,
        llm_calls_pairs=0,
        llm_calls=0,
        truncated_descriptions=0,
        fusion=FusionRule(weight=0.0),
        methods=[
            MethodAccuracy(
                method="one template",
                accuracy=0.5,
                correct=10,
                total=20,
                interval=(0.299, 0.701),
                no_better_than_chance=True,
            )
        ],
        validation_images=10,
        test_images=20,
        confused=[],
        changed_by="fusion",
        fixed=[],
        broken=[],
        predictions=[],
        report={"descriptions.json": str(tmp_path / "descriptions.json")},
        chance=ChanceLevel(classes=2, chance=0.5, majority_class="Bengal", majority=0.5),
        warnings=["No better than chance: one template.", "Predictions collapse onto 'Bengal'."],
        provenance=Provenance(clip="world", clip_weights="sha256:abc"),
    )


def test_the_page_warns_and_says_how_the_result_was_made(tmp_path):
    app = AppTest.from_file(str(PAGE), default_timeout=120)
    app.session_state["classification"] = _collapsed_result(tmp_path)
    app.run()
    assert not app.exception, app.exception
    assert [w.value for w in app.warning] == [
        "No better than chance: one template.",
        "Predictions collapse onto 'Bengal'.",
    ]
    table = app.dataframe[0].value.set_index("method")
    assert table.loc["one template", "95% interval"] == "29.9%-70.1%"
    captions = " ".join(c.value for c in app.caption)
    assert "To beat: chance 50.0% (2 classes)" in captions
    assert "Made with: CLIP: world (sha256:abc); clipflows: " in captions
