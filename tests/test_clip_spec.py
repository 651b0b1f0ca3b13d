import pytest

from clipflows.components.clip_spec import parse_spec
from clipflows.components.errors import SpecError


@pytest.mark.parametrize(
    ("text", "kind", "model", "source"),
    [
        ("world", "world", None, None),
        ("ViT-B-32:laion2b_s34b_b79k", "pretrained", "ViT-B-32", "laion2b_s34b_b79k"),
        ("ViT-B-32:/models/w.safetensors", "checkpoint", "ViT-B-32", "/models/w.safetensors"),
        ("RN50:weights.pt", "checkpoint", "RN50", "weights.pt"),
        (
            "hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
            "hf-hub",
            None,
            "laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
        ),
        ("local-dir:/tmp/run", "local-dir", None, "/tmp/run"),
        ("ViT-B-32:random", "random", "ViT-B-32", "random"),
    ],
)
def test_spec_grammar_parses_each_form(text, kind, model, source):
    spec = parse_spec(text)
    assert (spec.kind, spec.model, spec.source) == (kind, model, source)
    assert parse_spec(str(spec)) == spec


def test_existing_folder_is_a_local_dir(tmp_path):
    assert parse_spec(str(tmp_path)).kind == "local-dir"


@pytest.mark.parametrize("text", ["", "ViT-B-32", "hf-hub:no-slash", ":tag"])
def test_bad_specs_explain_the_grammar(text):
    with pytest.raises(SpecError, match="Specs:"):
        parse_spec(text)
