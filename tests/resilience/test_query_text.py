"""Query text, generated: separation queries and music search. Any unicode is encoded or is one
clear error; text with nothing readable is an error; text past the context is cut, not a crash."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clipflows.components.errors import EmptyInputError
from clipflows.components.music.library import LibraryTrack, MusicLibrary
from clipflows.components.separation.query_encoders import query_encoder
from clipflows.flows.separation import separate

pytestmark = pytest.mark.slow
FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

anything = st.text(max_size=300)  # hypothesis's characters: all of unicode but surrogates
readable = st.tuples(anything, st.characters(categories=["L", "N", "P", "S"]), anything).map(
    "".join
)  # at least one letter, digit, punctuation mark or symbol
nothing = st.text(st.characters(categories=["Zs", "Zl", "Zp", "Cc", "Cf"]), max_size=40)
long_head = " ".join(["barking dog"] * 300)  # far past 77 CLIP tokens and 256 word pieces


def has_words(text: str) -> bool:
    """Whether the text holds a letter, digit, mark, punctuation or symbol: something to read."""
    return any(unicodedata.category(c)[0] in "LNMPS" for c in text)


@pytest.fixture(scope="module")
def encoders(tiny_separator) -> dict:
    """The separation query encoders: the offline sentence model and a CLIP text tower."""
    return {
        "sentence": query_encoder("sentence"),
        "clip-text": query_encoder("clip-text", tiny_separator[1]),
    }


def unit_rows(vectors: np.ndarray, count: int, dim: int) -> bool:
    norms = np.linalg.norm(vectors, axis=1)
    return vectors.shape == (count, dim) and np.isfinite(vectors).all() and np.allclose(norms, 1)


@pytest.mark.parametrize("name", ["sentence", "clip-text"])
@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(text=anything)
def test_any_text_is_a_unit_vector_or_one_clear_error(encoders, name, text):
    encoder = encoders[name]
    if not has_words(text):
        with pytest.raises(EmptyInputError, match="query is empty"):
            encoder.encode_texts([text])
    else:
        assert unit_rows(encoder.encode_texts([text]), 1, encoder.dim)


@pytest.mark.parametrize("name", ["sentence", "clip-text"])
@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(text=readable)
def test_readable_text_is_encoded(encoders, name, text):
    assert unit_rows(encoders[name].encode_texts([text, "a dog"]), 2, encoders[name].dim)


@pytest.mark.parametrize("name", ["sentence", "clip-text"])
@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(text=nothing)
def test_text_with_nothing_readable_is_a_clear_error(encoders, name, text):
    with pytest.raises(EmptyInputError, match="is empty"):
        encoders[name].encode_texts(["a dog", text])


@pytest.mark.parametrize("name", ["sentence", "clip-text"])
@settings(max_examples=15, deadline=None, suppress_health_check=FIXTURES)
@given(tail=anything, other=anything)
def test_text_past_the_context_is_cut_there(encoders, name, tail, other):
    vectors = encoders[name].encode_texts([f"{long_head} {tail}", f"{long_head} {other}"])
    assert unit_rows(vectors, 2, encoders[name].dim)
    assert np.allclose(vectors[0], vectors[1], atol=1e-5)  # what comes after the cut is unread


@pytest.fixture(scope="module")
def library(encoders) -> MusicLibrary:
    texts = ["Soft solo piano, slow and calm", "Fast techno with loud drums", "A choir singing"]
    tracks = [
        LibraryTrack(
            path=f"{i}.opus",
            sha256=str(i),
            duration_s=30.0,
            mood=None,
            tags={"piano": 0.5},
            top_tags=["piano"],
            description=text,
            audio_embedding=[0.0],
        )
        for i, text in enumerate(texts)
    ]
    return MusicLibrary.from_tracks(tracks, encoders["sentence"])


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(query=st.one_of(anything, readable, nothing, readable.map(lambda t: long_head + t)))
def test_music_search_ranks_every_track_or_says_the_query_is_empty(library, query):
    if not has_words(query):
        with pytest.raises(EmptyInputError, match="query is empty"):
            library.search_text(query, k=3)
        return
    found = library.search_text(query, k=3)
    assert sorted(t.sha256 for t, _ in found) == ["0", "1", "2"]
    scores = [s for _, s in found]
    assert all(np.isfinite(scores)) and scores == sorted(scores, reverse=True)


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tone") / "tone.wav"
    sf.write(path, 0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 8000), 8000)
    return path


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(query=nothing)
def test_an_empty_separation_query_is_refused_before_any_file_is_read(tiny_separator, query):
    with pytest.raises(EmptyInputError, match="query is empty"):
        separate.fn("/no/such/file.wav", query, "/no/such/out.wav", *tiny_separator)


@settings(max_examples=4, deadline=None, suppress_health_check=FIXTURES)
@given(query=st.one_of(readable, readable.map(lambda t: long_head + t)))
def test_any_readable_separation_query_separates(tiny_separator, tone, query):
    with tempfile.TemporaryDirectory() as folder:
        result = separate.fn(str(tone), query, f"{folder}/out.wav", *tiny_separator)
        kept, rest = sf.read(result.separated)[0], sf.read(result.residual)[0]
        assert len(kept) == len(rest) == 16000 and np.isfinite(kept).all()
        assert result.query == query
