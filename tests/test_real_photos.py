"""Real photos get a real answer or a clear refusal, and every result says how it was made
(issue 24): the default CLIP is a real one, missing offline; the world CLIP says when it does not
know the images; a shift of one set's scores is not read as a difference."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import skimage
from test_cli_errors import RUN_CLI, _run

from clipflows.components.settings import DEFAULT_CLIP, Settings

# scikit-image's sample photographs, shipped inside the package (its data_dir is a download
# cache; these files are beside the module), so they are there offline.
PHOTOS_A = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png")
PHOTOS_B = ("camera.png", "motorcycle_right.png", "hubble_deep_field.jpg", "grass.png", "brick.png")


def photo_folder(folder: Path, names: tuple[str, ...]) -> Path:
    folder.mkdir(parents=True)
    for name in names:
        shutil.copy(Path(skimage.data.__file__).parent / name, folder / name)
    return folder


@pytest.fixture
def photo_sets(tmp_path: Path) -> tuple[Path, Path]:
    return photo_folder(tmp_path / "a", PHOTOS_A), photo_folder(tmp_path / "b", PHOTOS_B)


def test_the_default_clip_is_a_real_one(monkeypatch):
    monkeypatch.delenv("CLIPFLOWS_CLIP")
    assert Settings().clip == DEFAULT_CLIP == "ViT-B-32:laion2b_s34b_b79k"


def test_diff_on_photos_without_real_weights_is_one_error_with_the_ways_out(
    photo_sets, tmp_path, monkeypatch
):
    monkeypatch.delenv("CLIPFLOWS_CLIP")  # the user's own default, not the tests' world
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hub")}
    result = _run(RUN_CLI, "diff", *map(str, photo_sets), "-o", str(tmp_path / "r"), env=env)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 2, result.stderr[-3000:]
    assert lines[0].startswith("Error: CLIP weights for 'ViT-B-32:laion2b_s34b_b79k'")
    assert "--clip world" in lines[0] and "clipflows models --fetch" in lines[0]
    assert lines[1] == "imported: ['open_clip', 'torch']", "stopped before Prefect started"
    assert not (tmp_path / "r").exists()


def test_the_world_clip_says_it_does_not_know_real_photos(photo_sets, tmp_path):
    from clipflows.components.clip.domain import check_encoder_domain
    from clipflows.components.world.scenes import WorldConfig, write_dataset

    class Encoder:  # the check reads the spec only: no model is needed to look at images
        def __init__(self, spec: str):
            from clipflows.components.clip.spec import parse_spec

            self.spec = parse_spec(spec)

    renders = write_dataset(WorldConfig(seed=5, max_objects=4), 12, tmp_path / "w") / "images"
    photos = [str(p) for p in sorted(photo_sets[0].iterdir())]
    rendered = [str(p) for p in sorted(renders.glob("*.png"))]
    on_photos, on_renders = check_encoder_domain(Encoder("world"), photos, rendered)
    assert on_photos.outside and (on_photos.unlike, on_photos.images) == (5, 5)
    assert "unlike anything CLIP 'world' was trained on (coloured shapes" in on_photos.warning()
    assert not on_renders.outside and on_renders.unlike == 0 and on_renders.images == 12
    assert on_renders.warning() is None
    assert check_encoder_domain(Encoder("ViT-B-32:random"), photos) == [], "no narrow domain"


def _shifted_sets(seed: int = 0) -> tuple[np.ndarray, ...]:
    """Images whose set B scores higher on every text (a common direction all texts share),
    with no content difference at all."""
    rng = np.random.default_rng(seed)
    dim, common = 32, np.eye(32)[0]

    def unit(rows):
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    content = rng.normal(size=(80, dim)) * 0.3
    a = unit(content[:40] + 0.3 * common)
    b = unit(content[40:] + 1.2 * common)  # same content distribution, more of the common part
    texts = unit(rng.normal(size=(30, dim)) * 0.3 + common)
    reference = unit(rng.normal(size=(60, dim)) * 0.3 + common)
    return a, b, texts, reference


def test_a_shift_of_one_sets_scores_is_removed_and_reported():
    from clipflows.components.set_difference.ranking import (
        Hypothesis,
        RankerConfig,
        rank_hypotheses,
        set_shift,
    )

    a, b, texts, reference = _shifted_sets()
    hypotheses = [Hypothesis(text=f"t{i}", direction="B") for i in range(len(texts))]
    config = RankerConfig(bootstrap=0)
    raw = rank_hypotheses(a, b, hypotheses, texts, config)
    centred = rank_hypotheses(a, b, hypotheses, texts, config, reference)
    assert sum(s.significant for s in raw) == len(texts), "the shift alone looks significant"
    assert sum(s.significant for s in centred) <= 5, "what is left is per-text, not the shift"
    shift = set_shift(a, b, texts, reference, centred=True)
    assert (shift.higher, shift.leaning, shift.phrases) == ("B", 30, 30)
    assert shift.mean_shift > 0 and "30 of 30 phrases score higher in set B" in shift.note()
    uncentred = rank_hypotheses(a, b, hypotheses, texts, RankerConfig(centre=False), reference)
    assert [s.auroc for s in uncentred] == [s.auroc for s in raw]


def test_a_content_difference_survives_centring():
    from clipflows.components.set_difference.ranking import Hypothesis, rank_hypotheses, set_shift

    a, b, texts, reference = _shifted_sets(seed=1)
    b = b.copy()
    b[:, 1] += 0.8  # set B also has more of one concept
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    concept = np.eye(32)[1:2]
    hypotheses = [Hypothesis(text="the concept", direction="B")]
    (score,) = rank_hypotheses(a, b, hypotheses, concept, reference_vectors=reference)
    assert score.significant and score.auroc > 0.9
    assert set_shift(a, b, concept, reference, centred=True).note() is None, "one hypothesis"


def test_diff_on_photos_with_the_world_clip_warns_and_says_how_it_was_made(
    photo_sets, world_cache_dir, tmp_path
):
    """The whole command as a user runs it: the warnings and the models are in the terminal,
    result.json and report.md."""
    report = tmp_path / "report"
    result = _run(
        RUN_CLI,
        "diff",
        *map(str, photo_sets),
        "--no-llm",
        "--clip",
        "world",
        "-o",
        str(report),
        env={"CLIPFLOWS_CACHE_DIR": str(world_cache_dir)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    terminal = " ".join(result.stdout.split())
    assert (
        "Warning: Set a: 5 of 5 images are unlike anything CLIP 'world' was trained on" in terminal
    )
    assert "Warning: Set b: 4 of 5 images are unlike" in terminal  # the Hubble deep field passes
    assert "Made with: CLIP: world (sha256=" in terminal
    saved = json.loads((report / "result.json").read_text())
    assert saved["provenance"]["clip"] == "world"
    assert saved["provenance"]["clip_weights"].startswith("sha256=")
    assert saved["provenance"]["llm"] is None, "--no-llm asked no LLM"
    assert saved["provenance"]["clipflows_version"] and saved["provenance"]["created"]
    assert saved["shift"]["centred"] is True
    assert len(saved["warnings"]) >= 1 and all(d["outside"] for d in saved["domain"])
    markdown = (report / "report.md").read_text()
    assert (
        "**Warning:** Set a: 5 of 5 images are unlike" in markdown and "- CLIP: world" in markdown
    )
    assert "- vocabulary: 'a {style} of {subject} {scene}, {colour} tones'" in markdown
    assert "Made with:" in (report / "report.html").read_text()
