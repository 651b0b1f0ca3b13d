"""Embed many image folders in parallel: one task per folder, mapped over the flow's task runner.

The scale-out path: with a Dask task runner (flows/runtime/deployments.py `with_task_runner`) each
folder is encoded on its own worker process; results land in the shared embedding cache, so a
later set-difference or classify run over the same folders only reads vectors.
"""

from __future__ import annotations

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from clipflows.components.images import PathText
from clipflows.components.settings import Settings, load_settings
from clipflows.flows.runtime.worker_models import worker_encoder
from clipflows.flows.set_difference import resolve_set


class FolderEmbedding(BaseModel):
    """One folder's embeddings (kept whole so runners can be compared exactly); paths serialise
    even when a file name is not valid UTF-8 (:data:`PathText`)."""

    folder: PathText
    paths: list[PathText]
    vectors: list[list[float]]
    skipped: int
    encoded: int


@task(name="embed-folder", retries=1, cache_policy=NO_CACHE)
def embed_folder_task(folder: str, settings: Settings) -> FolderEmbedding:
    """Encode one folder with the worker's resident encoder (models do not travel)."""
    embedded = worker_encoder(settings).encode_images(resolve_set(folder, folder))
    return FolderEmbedding(
        folder=folder,
        paths=embedded.paths,
        vectors=embedded.vectors.tolist(),
        skipped=len(embedded.skipped),
        encoded=embedded.encoded,
    )


@flow(name="embed-folders")
def embed_folders(folders: list[str], settings: Settings | None = None) -> list[FolderEmbedding]:
    """Embeddings of every folder, one task per folder, run concurrently by the task runner."""
    settings = settings or load_settings()
    futures = embed_folder_task.map(folders, settings=unmapped(settings))
    return [future.result() for future in futures]
