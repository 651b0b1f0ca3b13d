import pytest

from clipflows.components.clip.spec import parse_spec
from clipflows.components.errors import SpecError


@pytest.mark.parametrize(
    ("text", "kind", "model", "source"),
    [
        ("world", "named", None, "world"),
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


@pytest.mark.parametrize(
    "text, suggested",
    [
        ("bogus", "open_clip.list_models()"),
        ("vit-b-32", "'ViT-B-32:openai'"),
        ("wrld", "'world'"),
        ("ViT-B-32", "'ViT-B-32:openai'"),
    ],
)
def test_a_spec_without_weights_suggests_real_specs_not_its_own_name(text, suggested):
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert suggested in str(caught.value)
    if text != "ViT-B-32":  # only a real architecture is offered with a tag
        assert f"'{text}:" not in str(caught.value)


def test_named_specs_resolve_through_their_table(monkeypatch, tmp_path):
    import torch

    from clipflows.components.clip import named
    from clipflows.components.settings import Settings

    monkeypatch.setitem(named.NAMED_SPECS, "elsewhere", "os.path:join")
    settings = Settings(cache_dir=tmp_path)
    with pytest.raises(SpecError, match="named specs: world"):
        named.resolve_named("nowhere", settings, torch.device("cpu"))
    assert parse_spec("elsewhere").kind == "named"


def test_the_clip_package_does_not_import_the_world():
    import subprocess
    import sys

    code = (
        "import sys\nfrom clipflows.components.clip.encoder import ClipEncoder\n"
        "print(any(m.startswith('clipflows.components.world') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
