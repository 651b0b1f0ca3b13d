"""Image sets passed to flows as files of paths: any size, any file name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clipflows.components.errors import EmptyInputError
from clipflows.components.image_lists import is_image_list, read_image_list, write_image_list
from clipflows.flows.set_difference import resolve_set


def test_an_image_list_keeps_order_and_a_name_that_is_not_utf8(tmp_path):
    odd = os.fsdecode(b"caf\xe9.png")  # Latin-1 bytes: a surrogate escape in Python
    paths = [tmp_path / "b.png", tmp_path / odd, tmp_path / "a.png"]
    listed = write_image_list(paths, tmp_path / "lists")
    assert is_image_list(listed) and not is_image_list(tmp_path)
    assert read_image_list(listed) == paths
    assert write_image_list(paths, tmp_path / "lists") == listed  # named by content
    assert resolve_set(str(listed), "A") == paths


def test_a_set_of_fifty_thousand_images_reaches_the_flow_as_a_path(
    tmp_path, world_spec, settings, prefect_harness
):
    """Prefect caps a run's parameters at 512 KB: 50,000 paths as a list could not start."""
    from clipflows.flows.set_difference import set_difference

    lists = tmp_path / "lists"
    missing = [[f"{tmp_path}/gone/{side}/{i:06d}.png" for i in range(25_000)] for side in "ab"]
    set_a, set_b = (str(write_image_list(paths, lists)) for paths in missing)
    assert Path(set_a).stat().st_size > 512 * 1024
    world = settings.model_copy(update={"clip": world_spec})
    # It ran: every path was tried and none could be read (as a list, the run could not start).
    with pytest.raises(EmptyInputError, match="Set A: no image could be read"):
        set_difference(set_a, set_b, settings=world, llm_proposals=False)
