"""A Dask task runner whose workers report to the flow's own Prefect API.

Imported only when the Dask runner is chosen (it needs the ``deploy`` extra). A worker process
knows only the API address in its environment. Where the flow's API is a temporary server it
started itself, or one set in-process (a test harness), each worker would start yet another
server: seconds per worker, task runs recorded where nobody looks, and concurrent first tasks in
one worker racing to start it ("Server process did not start"). So the cluster's workers are
given the flow's API address when the cluster starts.
"""

from __future__ import annotations

from typing import Any

from prefect.client.orchestration import get_client
from prefect_dask import DaskTaskRunner


class SharedApiDaskTaskRunner(DaskTaskRunner):
    """DaskTaskRunner that points a local cluster's workers at the flow's Prefect API."""

    def __enter__(self) -> Any:
        if self.address is None:  # a cluster this runner starts: its workers inherit our env
            api_url = str(get_client(sync_client=True).api_url).rstrip("/")
            env = {"PREFECT_API_URL": api_url, **self.cluster_kwargs.get("env", {})}
            self.cluster_kwargs = {**self.cluster_kwargs, "env": env}
        return super().__enter__()


def local_dask_runner(workers: int, threads_per_worker: int) -> SharedApiDaskTaskRunner:
    """A local cluster of ``workers`` processes with ``threads_per_worker`` threads each."""
    return SharedApiDaskTaskRunner(
        cluster_kwargs={
            "n_workers": workers,
            "threads_per_worker": threads_per_worker,
            "processes": True,
        }
    )
