"""Image encoding cut into shards that the flow's task runner encodes concurrently.

Each shard is one task; the task builds nothing itself but asks its worker for the resident
encoder (``worker_models``), and every finished batch lands in the shared embedding cache, so an
interrupted run keeps its shards' work and any runner gives the vectors a single process would.
"""

from __future__ import annotations

from pathlib import Path

from prefect import task, unmapped
from prefect.cache_policies import NO_CACHE

from clipflows.components.clip.encoder import ImageEmbeddings
from clipflows.components.errors import EmptyInputError
from clipflows.components.settings import Settings
from clipflows.flows.runtime.progress import log_progress
from clipflows.flows.runtime.worker_models import worker_encoder

DEFAULT_SHARD_SIZE = 512  # images per task: large enough that a task's overhead is noise


@task(name="encode-shard", retries=1, cache_policy=NO_CACHE)
def encode_shard_task(settings: Settings, paths: list[str], label: str) -> ImageEmbeddings:
    """CLIP embeddings of one shard (from the embedding cache where possible)."""
    return worker_encoder(settings).encode_images(paths, progress=log_progress(label))


def encode_in_shards(
    settings: Settings, sets: dict[str, list[Path]], shard_size: int = DEFAULT_SHARD_SIZE
) -> dict[str, ImageEmbeddings]:
    """Every set (label -> paths) cut into shards of ``shard_size`` images, all submitted at
    once, then put back together in input order. A set with no readable image is an error
    that names the set and the first reasons."""
    if shard_size < 1:
        raise ValueError(f"shard_size must be at least 1, not {shard_size}.")
    shards = [
        (label, paths[start : start + shard_size])
        for label, paths in sets.items()
        for start in range(0, len(paths), shard_size)
    ]
    futures = encode_shard_task.map(
        settings=unmapped(settings),
        paths=[[str(p) for p in chunk] for _, chunk in shards],
        label=[f"encode {label} ({len(chunk)} images)" for label, chunk in shards],
    )
    parts = [future.result() for future in futures]
    dim = worker_encoder(settings).embed_dim  # only used for a set with no readable image
    embedded = {}
    for label in sets:
        mine = [part for (owner, _), part in zip(shards, parts, strict=True) if owner == label]
        embedded[label] = ImageEmbeddings.concatenate(mine, dim)
        if len(embedded[label]) == 0:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in embedded[label].skipped[:3])
            raise EmptyInputError(f"{label}: no image could be read ({reasons}).")
    return embedded
