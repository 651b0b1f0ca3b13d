"""ClipEncoder: batched, cached CLIP embeddings of images and texts for any CLIP spec.

Embeddings are L2-normalised float32 rows. Every image and text is looked up in the persistent
embedding cache first (key: content hash + model identity + preprocessing), so encoding the same
files again costs a hash per file and no model work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from clipflows.components.cache import EmbeddingCache, sha256_bytes, sha256_file, stable_hash
from clipflows.components.clip.loading import load_clip
from clipflows.components.clip.spec import ClipSpec, parse_spec
from clipflows.components.device import Precision, resolve_device, resolve_precision
from clipflows.components.images import (
    DEFAULT_MAX_PIXELS,
    ImageDecodeError,
    Skipped,
    decode_image,
    read_bytes,
    read_error_reason,
)
from clipflows.components.settings import Settings, load_settings

Progress = Callable[[int, int], None]


@dataclass
class ImageEmbeddings:
    """Embeddings of the images that could be read, in input order, and why others were not."""

    paths: list[str]
    vectors: np.ndarray
    skipped: list[Skipped] = field(default_factory=list)
    encoded: int = 0  # how many came from the model rather than the cache

    def __len__(self) -> int:
        return len(self.paths)

    @classmethod
    def concatenate(cls, parts: Sequence[ImageEmbeddings], dim: int) -> ImageEmbeddings:
        """One set from shards encoded separately, in shard order (``dim`` for no rows)."""
        matrices = [part.vectors for part in parts if len(part)]
        return cls(
            paths=[path for part in parts for path in part.paths],
            vectors=np.concatenate(matrices) if matrices else np.zeros((0, dim), np.float32),
            skipped=[skip for part in parts for skip in part.skipped],
            encoded=sum(part.encoded for part in parts),
        )


class ClipEncoder:
    """Encode images and texts with one CLIP model on one device, through the embedding cache."""

    def __init__(
        self,
        spec: str | ClipSpec | None = None,
        *,
        settings: Settings | None = None,
        batch_size: int = 32,
        precision: Precision | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        use_cache: bool = True,
        decode_threads: int = 2,
    ):
        self.settings = settings or load_settings()
        self.spec = (
            parse_spec(spec or self.settings.clip) if not isinstance(spec, ClipSpec) else spec
        )
        self.device = resolve_device(self.settings.device)
        self.batch_size = batch_size
        self.precision = resolve_precision(precision or self.settings.precision, self.device)
        self.dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        self.max_pixels = max_pixels
        self.decode_threads = decode_threads
        loaded = load_clip(self.spec, self.device, settings=self.settings)
        self.model = loaded.model.to(self.dtype)
        self.preprocess = loaded.preprocess
        self.tokenizer = loaded.tokenizer
        self.model_identity = loaded.identity
        producer = {
            "model": loaded.identity,
            "precision": self.precision,
            "preprocess": repr(self.preprocess),
        }
        self._image_producer = "image:" + stable_hash(producer)
        tokenizer_id = {
            "type": type(self.tokenizer).__name__,
            "context": getattr(self.tokenizer, "context_length", None),
        }
        self._text_producer = "text:" + stable_hash({**producer, "tokenizer": tokenizer_id})
        self.cache = EmbeddingCache(self.settings.cache_dir / "embeddings") if use_cache else None
        self.embed_dim = int(
            loaded.model_cfg.get("embed_dim") or self._encode_text_batch(["probe"]).shape[1]
        )

    @torch.inference_mode()
    def encode_pil(self, images: Sequence) -> np.ndarray:
        """Encode already-decoded RGB images (no cache): [n, d] normalised float32."""
        outputs = []
        for start in range(0, len(images), self.batch_size):
            batch = torch.stack(
                [self.preprocess(im) for im in images[start : start + self.batch_size]]
            )
            outputs.append(self._encode_image_tensor(batch))
        return np.concatenate(outputs) if outputs else np.zeros((0, self.embed_dim), np.float32)

    def _encode_image_tensor(self, batch: torch.Tensor) -> np.ndarray:
        features = self.model.encode_image(batch.to(self.device, self.dtype))
        features = torch.nn.functional.normalize(features.float(), dim=-1)
        return features.cpu().numpy()

    def encode_images(
        self, paths: Sequence[str | Path], progress: Progress | None = None
    ) -> ImageEmbeddings:
        """Encode image files; unreadable ones are skipped with a reason, duplicates encoded once.

        New embeddings are written to the cache batch by batch, so an interrupted run keeps
        what it finished. Memory stays bounded: two batches of images are in flight at most.
        """
        keys: list[str | None] = []
        skipped: list[Skipped] = []
        for path in paths:
            try:
                keys.append(EmbeddingCache.key(self._image_producer, sha256_file(path)))
            except OSError as error:
                skipped.append(Skipped(str(path), read_error_reason(error)))
                keys.append(None)
        found = (
            self.cache.get_many((k for k in keys if k), self.embed_dim)
            if self.cache is not None
            else {}
        )
        todo: dict[str, Path] = {}
        for path, key in zip(paths, keys, strict=True):
            if key and key not in found and key not in todo:
                todo[key] = Path(path)
        computed, failed = self._encode_files(list(todo.items()), progress)
        vectors, kept = [], []
        for path, key in zip(paths, keys, strict=True):
            if key is None:
                continue
            if key in failed:
                skipped.append(Skipped(str(path), failed[key]))
                continue
            vectors.append(found.get(key, computed.get(key)))
            kept.append(str(path))
        dim = len(vectors[0]) if vectors else self.embed_dim
        matrix = np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, dim), np.float32)
        return ImageEmbeddings(kept, matrix, skipped, encoded=len(computed))

    def _decode(self, path: Path) -> torch.Tensor | str:
        try:
            return self.preprocess(decode_image(read_bytes(path), self.max_pixels))
        except ImageDecodeError as error:
            return str(error)

    @torch.inference_mode()
    def _encode_files(
        self, items: list[tuple[str, Path]], progress: Progress | None
    ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """Decode the next batch in a small thread pool (PIL releases the GIL) while the model
        encodes the current one."""
        computed: dict[str, np.ndarray] = {}
        failed: dict[str, str] = {}
        batches = [items[i : i + self.batch_size] for i in range(0, len(items), self.batch_size)]
        with ThreadPoolExecutor(max_workers=max(1, self.decode_threads)) as pool:
            pending = [pool.submit(self._decode, path) for _, path in batches[0]] if batches else []
            for index, batch in enumerate(batches):
                results = [future.result() for future in pending]
                if index + 1 < len(batches):
                    pending = [pool.submit(self._decode, path) for _, path in batches[index + 1]]
                good = [
                    (key, r)
                    for (key, _), r in zip(batch, results, strict=True)
                    if not isinstance(r, str)
                ]
                failed.update(
                    (key, r)
                    for (key, _), r in zip(batch, results, strict=True)
                    if isinstance(r, str)
                )
                if good:
                    vectors = self._encode_image_tensor(torch.stack([t for _, t in good]))
                    fresh = dict(zip((key for key, _ in good), vectors, strict=True))
                    computed.update(fresh)
                    if self.cache is not None:
                        self.cache.set_many(fresh)
                if progress:
                    progress(min((index + 1) * self.batch_size, len(items)), len(items))
        return computed, failed

    @torch.inference_mode()
    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        features = self.model.encode_text(self.tokenizer(texts).to(self.device))
        return torch.nn.functional.normalize(features.float(), dim=-1).cpu().numpy()

    @torch.inference_mode()
    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Encode texts (truncated to the model's context): [n, d] normalised float32."""
        texts = [str(t) for t in texts]
        keys = [EmbeddingCache.key(self._text_producer, sha256_bytes(t.encode())) for t in texts]
        found = self.cache.get_many(keys, self.embed_dim) if self.cache is not None else {}
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in found))
        computed: dict[str, np.ndarray] = {}
        for start in range(0, len(missing), 256):
            chunk = missing[start : start + 256]
            features = self._encode_text_batch(chunk)
            for text, vector in zip(chunk, features, strict=True):
                computed[EmbeddingCache.key(self._text_producer, sha256_bytes(text.encode()))] = (
                    vector
                )
        if self.cache is not None and computed:
            self.cache.set_many(computed)
        if not texts:
            return np.zeros((0, self.embed_dim), np.float32)
        return np.stack([found.get(k, computed.get(k)) for k in keys]).astype(np.float32)
