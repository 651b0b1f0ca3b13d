"""Structured inputs, generated: CSV rows, class-name lists, description texts."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import open_clip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clipflows.components.classification.datasets import class_name_from_folder, load_labels_csv
from clipflows.components.clip.text import fit_to_context, token_count
from clipflows.components.errors import ClipflowsError

TOKENIZER = open_clip.get_tokenizer("RN50")
names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)


@settings(max_examples=200, deadline=None)
@given(names)
def test_any_text_fits_the_context_and_keeps_its_start(text):
    fitted, cut = fit_to_context(text, TOKENIZER)
    count = token_count(fitted, TOKENIZER)
    assert count is not None and count <= TOKENIZER.context_length
    assert text.startswith(fitted) or " ".join(text.split()).startswith(fitted)
    assert cut == (fitted != text)
    assert TOKENIZER([fitted]).shape == (1, TOKENIZER.context_length)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=0, max_size=120))
def test_folder_names_become_single_spaced_class_names(name):
    result = class_name_from_folder(name)
    assert "_" not in result and "  " not in result and result == result.strip()


rows = st.lists(
    st.tuples(
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30),
        st.sampled_from(["cat", "dog", "fox", "élan ünïcode", "x" * 200]),
    ),
    min_size=0,
    max_size=20,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_csv_rows_load_or_fail_with_a_clear_error(table):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "labels.csv"
        buffer = io.StringIO()
        csv.writer(buffer).writerows(table)
        path.write_text(buffer.getvalue())
        try:
            data = load_labels_csv(path)
        except ClipflowsError:
            return  # empty sets, single classes and malformed rows are user errors
        assert data.class_names == sorted({label.strip() for _, label in table})
        assert (
            len(data.paths)
            == len(data.labels)
            == len(
                [
                    r
                    for r in csv.reader(buffer.getvalue().splitlines())
                    if r and any(c.strip() for c in r)
                ]
            )
        )
