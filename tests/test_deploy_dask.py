"""The same workflow on a 2-worker local Dask cluster gives the default runner's results."""

from __future__ import annotations

import numpy as np
import pytest

from clipflows.components.world_sets import WORLD_SET_PAIRS, write_pair
from clipflows.flows.deployments import make_task_runner, with_task_runner
from clipflows.flows.embed_folders import embed_folders

pytest.importorskip("prefect_dask")


@pytest.mark.slow
def test_dask_runner_matches_the_default_runner(settings, world_spec, tmp_path, prefect_harness):
    folders = []
    for pair in WORLD_SET_PAIRS[:2]:
        folders += [str(f) for f in write_pair(pair, tmp_path / "sets", count=12)]
    # separate caches: both runs really encode
    default_settings = settings.model_copy(
        update={"clip": world_spec, "cache_dir": tmp_path / "c1"}
    )
    dask_settings = settings.model_copy(update={"clip": world_spec, "cache_dir": tmp_path / "c2"})
    default = embed_folders(folders, settings=default_settings)
    dask_flow = with_task_runner(embed_folders, "dask", workers=2)
    assert type(dask_flow.task_runner).__name__ == "DaskTaskRunner"
    distributed = dask_flow(folders, settings=dask_settings)
    assert [r.folder for r in distributed] == folders
    for one, other in zip(default, distributed, strict=True):
        assert one.paths == other.paths and len(one.paths) == 12
        assert one.encoded == other.encoded == 12
        np.testing.assert_allclose(np.array(one.vectors), np.array(other.vectors), atol=1e-5)


def test_unknown_task_runner_is_refused():
    with pytest.raises(ValueError, match="unknown task runner"):
        make_task_runner("ray")  # type: ignore[arg-type]
