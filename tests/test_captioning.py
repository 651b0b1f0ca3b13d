"""Captioners: the CLIP-vocabulary captioner on the world, the caption cache, the VLM path."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from clipflows.agents.llm import create_llm
from clipflows.agents.vlm_captioner import VlmCaptioner
from clipflows.components.cache import JsonCache
from clipflows.components.clip.encoder import ClipEncoder
from clipflows.components.errors import MissingWeightsError
from clipflows.components.set_difference.captioning import (
    BlipCaptioner,
    CaptionVocabulary,
    ClipVocabularyCaptioner,
    caption_images,
)
from clipflows.components.settings import LLMSettings, Settings
from clipflows.components.world.scenes import WorldConfig, read_dataset, write_dataset
from clipflows.components.world.vocabulary import WORLD_VOCABULARY


@pytest.fixture(scope="module")
def single_objects(tmp_path_factory):
    folder = write_dataset(
        WorldConfig(seed=21, min_objects=1, max_objects=1), 24, tmp_path_factory.mktemp("w")
    )
    return folder, read_dataset(folder)


def test_world_captions_name_size_colour_shape_and_background(world_spec, settings, single_objects):
    folder, records = single_objects
    captioner = ClipVocabularyCaptioner(
        ClipEncoder(world_spec, settings=settings), WORLD_VOCABULARY
    )
    captions = captioner.caption([folder / r.image for r in records])
    right = [
        f"a {o.size} {o.colour} {o.shape} on a {r.background} background" in c
        for r, o, c in zip(records, (r.objects[0] for r in records), captions, strict=True)
    ]
    assert sum(right) / len(right) >= 0.9, list(zip(captions, records, strict=True))[:3]
    assert all(c.split(":")[0] in WORLD_VOCABULARY.slots["count"] for c in captions)


def test_captions_are_cached_by_content_and_captioner(world_spec, settings, single_objects):
    folder, records = single_objects
    inner = ClipVocabularyCaptioner(ClipEncoder(world_spec, settings=settings), WORLD_VOCABULARY)
    calls = []

    class Counting:
        identity = inner.identity

        def caption(self, paths):
            calls.append(len(paths))
            return inner.caption(paths)

    cache = JsonCache(settings.cache_dir / "captions")
    paths = [folder / r.image for r in records[:6]]
    first = caption_images(Counting(), paths, cache)
    second = caption_images(Counting(), paths[::-1], cache)
    assert calls == [6] and second == first[::-1]


def test_damaged_caption_entries_are_captioned_again(tmp_path):
    """Non-JSON bytes or a non-text value in the caption cache once crashed every later run."""
    import diskcache

    class Fixed:
        identity = "fixed"

        def caption(self, paths):
            return [f"caption of {p.name}" for p in paths]

    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    for index, path in enumerate(paths):
        path.write_bytes(bytes([index]))
    cache = JsonCache(tmp_path / "captions")
    caption_images(Fixed(), paths, cache)
    store = diskcache.Cache(str(tmp_path / "captions"))
    first, second = list(store)
    store[first], store[second] = b"\xff not json", b"42"
    store.close()
    assert caption_images(Fixed(), paths, JsonCache(tmp_path / "captions")) == [
        "caption of a.png",
        "caption of b.png",
    ]


def test_vocabulary_slots_must_match_the_template():
    with pytest.raises(ValueError, match="slots"):
        CaptionVocabulary(template="a {colour} {shape}", slots={"colour": ["red"]}).check()


def test_blip_without_weights_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MissingWeightsError, match="transformers|hub cache"):
        BlipCaptioner()


class _VlmHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        reply = {
            "id": "1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": " a red circle "},
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_vlm_captioner_sends_images_as_data_urls(tmp_path, single_objects):
    server = HTTPServer(("127.0.0.1", 0), _VlmHandler)
    server.requests = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = Settings(
            cache_dir=tmp_path,
            llm=LLMSettings(
                backend="openai-compatible",
                model="vlm",
                base_url=f"http://127.0.0.1:{server.server_port}/v1",
            ),
        )
        folder, records = single_objects
        captioner = VlmCaptioner(create_llm(settings))
        assert captioner.caption([folder / records[0].image]) == ["a red circle"]
        content = server.requests[0]["messages"][0]["content"]
        image_part = next(part for part in content if part["type"] == "image_url")
        assert image_part["image_url"]["url"].startswith("data:image/png;base64,")
    finally:
        server.shutdown()
        server.server_close()
