"""A file name that is not valid UTF-8 is reported, escaped, instead of failing the result after
all the encoding (issue 27.8)."""

from __future__ import annotations

import json
import os

from clipflows.components.classification.datasets import LabelledImages
from clipflows.components.images import Skipped
from clipflows.flows.embed_folders import FolderEmbedding
from clipflows.flows.set_difference import SetSummary


def test_a_name_that_is_not_utf8_serialises_escaped_and_stays_usable():
    name = os.fsdecode(b"/photos/caf\xe9.png")  # Latin-1 bytes, as an old camera wrote them
    summary = SetSummary(name="a", images=1, paths=[name], skipped=[Skipped(name, "unreadable")])
    saved = json.loads(summary.model_dump_json())
    assert saved["paths"] == ["/photos/caf\\xe9.png"]
    assert saved["skipped"][0]["path"] == "/photos/caf\\xe9.png"
    assert summary.paths[0] == name and os.fsencode(summary.paths[0]) == b"/photos/caf\xe9.png"
    data = LabelledImages(paths=[name, "/b.png"], labels=[0, 1], class_names=["x", "y"])
    assert json.loads(data.model_dump_json())["paths"][0] == "/photos/caf\\xe9.png"


def test_a_folder_embedding_with_such_a_name_serialises_too():
    name = os.fsdecode(b"/photos/caf\xe9/1.png")
    folder = os.fsdecode(b"/photos/caf\xe9")
    embedding = FolderEmbedding(folder=folder, paths=[name], vectors=[[0.0]], skipped=0, encoded=1)
    saved = json.loads(embedding.model_dump_json())
    assert saved["folder"] == "/photos/caf\\xe9" and saved["paths"] == ["/photos/caf\\xe9/1.png"]
    assert embedding.paths[0] == name
