"""Music: tagging, descriptions by analogy, the library index, search, generation."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from network_guard import no_network

from clipflows.agents.music_describer import closest_analogies, load_analogies
from clipflows.components.errors import EmptyInputError, MissingWeightsError
from clipflows.components.music.library import MusicLibrary
from clipflows.components.music.tracks import list_tracks, packaged_tracks_dir
from clipflows.components.music.vector_index import IndexConfig, VectorIndex
from clipflows.components.sentence import SentenceEncoder


@pytest.fixture(scope="module")
def small_library_folder(tmp_path_factory) -> Path:
    """One track per mood folder, plus a corrupt file."""
    root = tmp_path_factory.mktemp("tracks")
    for mood in sorted(p for p in packaged_tracks_dir().iterdir() if p.is_dir()):
        (root / mood.name).mkdir()
        first = sorted(mood.glob("*.opus"))[0]
        shutil.copy(first, root / mood.name / first.name)
    (root / "calm" / "broken.wav").write_bytes(b"RIFF not really audio")
    return root


def test_the_packaged_tracks_are_found():
    tracks = list_tracks(packaged_tracks_dir())
    assert len(tracks) == 28
    assert {t.parent.name for t in tracks} == {"calm", "energetic", "happy", "nostalgic", "tender"}


def test_analogies_are_chosen_by_tag_similarity():
    bank = load_analogies()
    assert 12 <= len(bank) <= 20
    calm = closest_analogies({"guitar": 0.9, "slow": 0.7, "soft": 0.5}, bank, 2)
    assert all("guitar" in a.tags for a in calm)
    dance = closest_analogies({"techno": 0.9, "dance": 0.8, "fast": 0.6}, bank, 1)
    assert "techno" in dance[0].tags


def test_descriptions_that_copy_an_example_or_hold_json_are_rejected():
    from pydantic import ValidationError

    from clipflows.agents.music_describer import fresh_description_schema

    bank = load_analogies()
    schema = fresh_description_schema(bank[:2])
    fresh = "Bright handclaps and a bouncy bass line; cheerful and light."
    assert schema(description=fresh).description == fresh
    copied = bank[0].description.upper() + " And more."  # case and punctuation do not hide it
    for bad in (copied, 'Soft piano. JSON: {"description": "x"}'):
        with pytest.raises(ValidationError):
            schema(description=bad)
    assert schema(description=bank[2].description)  # an example it was not shown is allowed


def test_exact_and_ivf_indexes_agree_on_clustered_data(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(50, 32))
    vectors = (centres[rng.integers(0, 50, 5000)] + 0.3 * rng.normal(size=(5000, 32))).astype(
        np.float32
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact = VectorIndex.build(vectors, IndexConfig(exact_threshold=10_000))
    ivf = VectorIndex.build(vectors, IndexConfig(exact_threshold=1000, probes=8))
    assert exact.exact and not ivf.exact
    _, truth = exact.search(vectors[:50], 5)
    _, approx = ivf.search(vectors[:50], 5)
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(truth, approx, strict=True)])
    assert recall > 0.9 and (truth[:, 0] == np.arange(50)).all()
    ivf.save(tmp_path / "i.faiss")
    assert (VectorIndex.load(tmp_path / "i.faiss").search(vectors[:5], 5)[1] == approx[:5]).all()


@pytest.mark.slow
def test_describe_library_tags_describes_indexes_and_reruns_free(
    small_library_folder, settings, tmp_path, prefect_harness
):
    from clipflows.flows.music_library import describe_library

    first = describe_library(str(small_library_folder), str(tmp_path / "index"), settings)
    assert first.tracks == 5 and list(first.skipped) == [
        str(small_library_folder / "calm" / "broken.wav")
    ]
    assert first.tagger_runs == 1 and first.llm_calls >= 5
    library = MusicLibrary.load(tmp_path / "index", SentenceEncoder())
    tags = [tuple(t.top_tags) for t in library.tracks]
    assert len(set(tags)) > 1  # the float16 overflow would give every track the same tags
    assert all(0 <= v <= 1 for t in library.tracks for v in t.tags.values())
    assert all(len(t.audio_embedding) == 200 for t in library.tracks)
    assert all(10 <= len(t.description) <= 200 for t in library.tracks)
    assert {t.mood for t in library.tracks} == {"calm", "energetic", "happy", "nostalgic", "tender"}
    # A track whose answers never validated (SmolLM2 often copies an example) is listed and
    # described by its tags; the others have the LLM's own words.
    for track in library.tracks:
        fallback = track.description == "Music tagged " + ", ".join(track.top_tags)
        assert fallback == (track.path in first.description_failures), track.description
    hits = library.search_text("calm acoustic guitar", k=3, field="tags")
    assert len(hits) == 3 and hits[0][1] >= hits[1][1] >= hits[2][1]
    again = describe_library(str(small_library_folder), str(tmp_path / "index2"), settings)
    assert again.tagger_runs == 0 and again.llm_calls == 0


def test_an_empty_folder_is_a_clear_error(settings, tmp_path):
    from clipflows.flows.music_library import describe_library

    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyInputError, match="No audio files"):
        describe_library.fn(str(tmp_path / "empty"), settings=settings)


@pytest.mark.slow
def test_musicgen_debug_model_generates_and_real_weights_fail_fast(tmp_path, monkeypatch):
    from clipflows.components.music.generation import MusicGenerator

    clip = MusicGenerator("debug").generate("calm acoustic guitar", 1.0, tmp_path / "g.wav")
    info = sf.info(clip.path)
    assert abs(info.duration - 1.0) < 0.05 and clip.sample_rate == info.samplerate
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with no_network(monkeypatch), pytest.raises(MissingWeightsError, match="Hugging Face cache"):
        MusicGenerator("facebook/musicgen-small").generate("x", 1.0, tmp_path / "r.wav")
    assert not (tmp_path / "r.wav").exists()
