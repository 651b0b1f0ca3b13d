import shutil

import diskcache
import numpy as np
import pytest
from network_guard import no_network

from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.clip.loading import resolve_pretrained
from clipflows.components.errors import DamagedFileError, MissingWeightsError
from clipflows.components.world.scenes import WorldConfig, write_dataset


@pytest.fixture(scope="module")
def world_images(tmp_path_factory):
    folder = write_dataset(WorldConfig(seed=11), 500, tmp_path_factory.mktemp("images"))
    return sorted((folder / "images").glob("*.png"))


def test_embeddings_are_normalised_rows_in_input_order(world_spec, settings, world_images):
    encoder = ClipEncoder(world_spec, settings=settings)
    forward = encoder.encode_images(world_images[:12])
    backward = encoder.encode_images(world_images[:12][::-1])
    assert forward.vectors.shape == (12, encoder.embed_dim)
    assert np.allclose(np.linalg.norm(forward.vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(forward.vectors, backward.vectors[::-1], atol=1e-6)
    assert forward.paths == [str(p) for p in world_images[:12]]


def test_second_pass_over_500_images_encodes_nothing(world_spec, settings, world_images):
    first = ClipEncoder(world_spec, settings=settings).encode_images(world_images)
    assert first.encoded == 500
    fresh_process_encoder = ClipEncoder(world_spec, settings=settings)  # cache is on disk

    def no_model_call(*args, **kwargs):
        raise AssertionError("a fully cached pass ran the image model")

    fresh_process_encoder.model.encode_image = no_model_call
    second = fresh_process_encoder.encode_images(world_images)
    assert second.encoded == 0
    assert np.array_equal(first.vectors, second.vectors)


def test_cache_matches_fresh_computation(world_spec, settings, world_images):
    cached = ClipEncoder(world_spec, settings=settings)
    cached.encode_images(world_images[:8])
    uncached = ClipEncoder(world_spec, settings=settings, use_cache=False)
    assert np.allclose(
        cached.encode_images(world_images[:8]).vectors,
        uncached.encode_images(world_images[:8]).vectors,
        atol=1e-5,
    )


def test_unreadable_files_are_skipped_with_reasons_and_the_rest_proceeds(
    world_spec, settings, world_images, tmp_path
):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not an image")
    (tmp_path / "cut.png").write_bytes(world_images[0].read_bytes()[:100])
    paths = [
        world_images[0],
        tmp_path / "empty.png",
        tmp_path / "text.jpg",
        tmp_path / "cut.png",
        tmp_path / "missing.png",
        world_images[1],
    ]
    result = ClipEncoder(world_spec, settings=settings).encode_images(paths)
    assert result.paths == [str(world_images[0]), str(world_images[1])]
    reasons = {s.path.rsplit("/", 1)[1]: s.reason for s in result.skipped}
    assert reasons["empty.png"] == "empty file"
    assert "not an image" in reasons["text.jpg"]
    assert "corrupt" in reasons["cut.png"]
    assert reasons["missing.png"] == "file not found"


def test_duplicate_files_are_encoded_once(world_spec, settings, world_images, tmp_path):
    copy = tmp_path / "copy.png"
    copy.write_bytes(world_images[3].read_bytes())
    result = ClipEncoder(world_spec, settings=settings).encode_images([world_images[3], copy])
    assert result.encoded == 1 and len(result) == 2
    assert np.array_equal(result.vectors[0], result.vectors[1])


def test_texts_are_cached_and_long_texts_truncated(world_spec, settings):
    encoder = ClipEncoder(world_spec, settings=settings)
    texts = ["a red circle", "a blue star", "word " * 500]
    vectors = encoder.encode_texts(texts)
    assert vectors.shape == (3, encoder.embed_dim)
    assert np.allclose(encoder.encode_texts(texts[::-1]), vectors[::-1], atol=1e-6)
    assert encoder.encode_texts([]).shape == (0, encoder.embed_dim)


def _cut_short(raw: bytes, dim: int) -> bytes:
    return raw[: len(raw) - 2 * dim]  # half the values gone


def _shuffled(raw: bytes, dim: int) -> bytes:
    values = np.frombuffer(raw[-4 * dim :], np.float32)
    return raw[: -4 * dim] + values[::-1].tobytes()


def _nan(raw: bytes, dim: int) -> bytes:
    return raw[: -4 * dim] + np.full(dim, np.nan, np.float32).tobytes()


@pytest.mark.parametrize("damage", [_cut_short, _shuffled, _nan])
def test_damaged_cached_embeddings_are_recomputed_and_overwritten(
    world_spec, settings, world_images, damage
):
    """A wrong-length, reordered or NaN vector in the cache once gave a confident all-0.5 or a
    different ranking; now it is a miss, encoded again and written back whole."""
    texts = ["a red circle", "a blue star"]
    fresh = ClipEncoder(world_spec, settings=settings, use_cache=False)
    expected_images = fresh.encode_images(world_images[:4]).vectors
    expected_texts = fresh.encode_texts(texts)
    ClipEncoder(world_spec, settings=settings).encode_images(world_images[:4])
    ClipEncoder(world_spec, settings=settings).encode_texts(texts)
    store = diskcache.Cache(str(settings.cache_dir / "embeddings"))
    for key in list(store):
        store[key] = damage(store[key], fresh.embed_dim)
    store.close()

    encoder = ClipEncoder(world_spec, settings=settings)
    images = encoder.encode_images(world_images[:4])
    assert images.encoded == 4
    assert np.allclose(images.vectors, expected_images, atol=1e-5)
    assert np.allclose(encoder.encode_texts(texts), expected_texts, atol=1e-5)
    assert ClipEncoder(world_spec, settings=settings).encode_images(world_images[:4]).encoded == 0


def test_truncated_world_weights_name_the_file_and_the_fix(world_clip_dir, settings):
    from clipflows.components.world.model import world_clip_dir as cached_world_dir

    copy = cached_world_dir(settings.cache_dir) / "model"
    shutil.copytree(world_clip_dir, copy)
    weights = copy / "open_clip_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:300_000])
    with pytest.raises(DamagedFileError) as raised:
        ClipEncoder("world", settings=settings)
    message = str(raised.value)
    assert str(weights) in message and f"Delete the folder {copy}" in message


def test_world_clip_tells_colours_apart(world_spec, settings):
    from clipflows.components.world.scenes import WorldObject, render

    encoder = ClipEncoder(world_spec, settings=settings)
    image = render(
        [WorldObject(colour="red", shape="circle", size="large", x=0.5, y=0.5, radius=0.3)],
        "white",
        64,
    )
    scores = (
        encoder.encode_pil([image])
        @ encoder.encode_texts(["a red circle", "a blue circle", "a green circle"]).T
    )
    assert scores.argmax() == 0


def test_hub_spec_offline_fails_fast_with_the_ways_out(tmp_path, monkeypatch, settings):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    for offline in ("1", ""):
        monkeypatch.setenv("HF_HUB_OFFLINE", offline)
        # Offline, nothing is dialled; online, an unreachable hub is the same clear error.
        guard = no_network(monkeypatch, unreachable=not offline)
        with guard, pytest.raises(MissingWeightsError) as caught:
            ClipEncoder("ViT-B-32:laion2b_s34b_b79k", settings=settings)
        message = str(caught.value)
        assert "ViT-B-32:laion2b_s34b_b79k" in message and "Ways out" in message
        assert "local-dir:" in message and "--clip world" in message


def test_weights_in_the_hub_cache_are_found_without_network(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    repo = tmp_path / "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    weights = repo / "snapshots" / "abc123" / "open_clip_pytorch_model.safetensors"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"weights")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    path, preprocess = resolve_pretrained("ViT-B-32", "laion2b_s34b_b79k")
    assert path == str(weights)
    assert preprocess["interpolation"] == "bicubic"
