"""Music for video: video decoding and pooling, the synthetic paired set, the trimodal model,
training with exact resume, held-out retrieval against baselines, and recommend."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf
import torch
from network_guard import no_network
from PIL import Image

from clipflows.components.checkpoints import CheckpointMismatchError
from clipflows.components.errors import ClipflowsError, EmptyInputError
from clipflows.components.music.evaluation import chance_scores, rank_scores, true_item_ranks
from clipflows.components.music.synthetic_videos import (
    ClipDescriptors,
    PairedSetConfig,
    draw_frames,
    measure_clip,
    split_tracks,
    write_video,
)
from clipflows.components.music.training import (
    PairedFeatures,
    RetrievalTrainConfig,
    load_model,
    train_retrieval,
)
from clipflows.components.music.video import (
    VideoConfig,
    VideoError,
    pool_frames,
    read_video_frames,
)
from clipflows.components.settings import Settings, default_cache_dir


def _colour_frames(count: int) -> list[Image.Image]:
    """Frames that fade from black to white, so each frame's time can be read off its pixels."""
    return [Image.new("RGB", (32, 32), (v, v, v)) for v in np.linspace(0, 255, count).astype(int)]


def test_frames_are_sampled_at_the_requested_rate(tmp_path):
    path = write_video(_colour_frames(40), 10, tmp_path / "fade.mp4")  # 4 s at 10 fps
    frames, times = read_video_frames(path, VideoConfig(fps=2.0))
    assert len(frames) == 8 and times == pytest.approx([0.5 * i for i in range(8)], abs=0.01)
    brightness = [np.asarray(f).mean() for f in frames]
    assert brightness == sorted(brightness) and brightness[-1] - brightness[0] > 150
    capped, capped_times = read_video_frames(path, VideoConfig(fps=10.0, max_frames=5))
    assert len(capped) == 5 and capped_times[0] == 0 and capped_times[-1] == pytest.approx(3.9)
    assert not list(tmp_path.glob("*.partial*"))


def test_paired_videos_decode_to_exactly_what_was_drawn(tmp_path):
    import av

    from clipflows.components.music.synthetic_videos import rgb_to_yuv420p

    descriptors = ClipDescriptors(tempo_bpm=128, energy=0.6, onset_rate=3, pulse=[0.3, 1.0] * 8)
    frames = draw_frames(descriptors, "happy", 7, PairedSetConfig())
    for name in ("a.mp4", "b.mp4"):
        with av.open(str(write_video(frames, 8, tmp_path / name))) as container:
            decoded = [f.to_ndarray(format="yuv420p") for f in container.decode(video=0)]
        assert len(decoded) == 16
        assert all(
            (d == rgb_to_yuv420p(np.asarray(f))).all() for d, f in zip(decoded, frames, strict=True)
        )
    lossy = write_video(frames, 8, tmp_path / "lossy.mp4", lossless=False)
    assert lossy.stat().st_size < (tmp_path / "a.mp4").stat().st_size


def test_a_folder_of_frames_is_a_video(tmp_path):
    for i, frame in enumerate(_colour_frames(6)):
        frame.save(tmp_path / f"frame{i:03d}.png")
    (tmp_path / "notes.png").write_bytes(b"not an image")  # unreadable frames are left out
    frames, times = read_video_frames(tmp_path, VideoConfig(fps=3.0))
    assert len(frames) == 6 and times[1] == pytest.approx(1 / 3)


def test_unreadable_videos_are_clear_errors(tmp_path):
    import av

    audio_only = tmp_path / "speech.mp4"
    with av.open(str(audio_only), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    with pytest.raises(VideoError, match="no video stream"):
        read_video_frames(audio_only, VideoConfig())
    (tmp_path / "fake.mp4").write_text("hello")
    with pytest.raises(VideoError, match="not a video"):
        read_video_frames(tmp_path / "fake.mp4", VideoConfig())
    with pytest.raises(VideoError, match="does not exist"):
        read_video_frames(tmp_path / "missing.mp4", VideoConfig())
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="no readable frame"):
        read_video_frames(tmp_path / "empty", VideoConfig())
    whole = write_video(_colour_frames(40), 10, tmp_path / "whole.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) * 9 // 10])  # the index is at the end
    with pytest.raises(VideoError, match="cut.mp4"):
        read_video_frames(tmp_path / "cut.mp4", VideoConfig(fps=10))
    damaged = bytearray(whole)
    damaged[len(whole) // 2 : len(whole) // 2 + 200] = bytes(200)
    (tmp_path / "damaged.mp4").write_bytes(bytes(damaged))
    frames, _ = read_video_frames(tmp_path / "damaged.mp4", VideoConfig(fps=10))
    assert 10 <= len(frames) < 40  # what still decodes is used


def test_pooling_keeps_mean_spread_and_motion():
    still = np.tile(np.array([[1.0, 0.0]], np.float32), (4, 1))
    moving = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], np.float32)
    assert pool_frames(still).tolist() == [1, 0, 0, 0, 0, 0]
    pooled = pool_frames(moving)
    assert pooled[:2].tolist() == [0.5, 0.5] and pooled[2:4].tolist() == [0.5, 0.5]
    assert pooled[4:].tolist() == [1, 1]  # every step changes both coordinates by one
    with pytest.raises(EmptyInputError):
        pool_frames(np.zeros((0, 2), np.float32))


def _clicks(bpm: float, seconds: float, rate: int, level: float) -> np.ndarray:
    audio = np.zeros(int(seconds * rate), np.float32)
    click = level * np.hanning(400) * np.sin(2 * np.pi * 1000 * np.arange(400) / rate)
    for start in np.arange(0, seconds, 60 / bpm):
        i = int(start * rate)
        audio[i : i + 400] += click[: len(audio) - i]
    return audio


def test_clip_measurements_follow_the_audio():
    config = PairedSetConfig()
    fast = measure_clip(_clicks(120, 6, 22050, 0.8), 22050, config)
    slow = measure_clip(_clicks(80, 6, 22050, 0.05), 22050, config)
    assert fast.tempo_bpm == pytest.approx(120, rel=0.05)
    assert slow.tempo_bpm == pytest.approx(80, rel=0.05)
    assert fast.onset_rate == pytest.approx(2.0, abs=0.35)
    assert fast.energy > slow.energy
    assert len(fast.pulse) == 48 and max(fast.pulse) == pytest.approx(1.0)
    silent = measure_clip(np.zeros(6 * 22050, np.float32), 22050, config)
    assert silent.energy == 0 and np.isfinite(silent.pulse).all()


def test_videos_are_drawn_from_the_measurements():
    config = PairedSetConfig()
    loud = ClipDescriptors(tempo_bpm=150, energy=0.9, onset_rate=4, pulse=[0.5] * 16)
    quiet = loud.model_copy(update={"tempo_bpm": 70, "energy": 0.1})
    bright = np.asarray(draw_frames(loud, "calm", 0, config)[0]).astype(float)
    dark = np.asarray(draw_frames(quiet, "calm", 0, config)[0]).astype(float)
    assert bright[0, 0].mean() > 180 and dark[0, 0].mean() < 60  # the background's brightness
    blue = np.asarray(draw_frames(loud, "calm", 0, config)[0]).reshape(-1, 3)
    red = np.asarray(draw_frames(loud, "energetic", 0, config)[0]).reshape(-1, 3)
    assert (blue[:, 2] > blue[:, 0] + 100).any() and (red[:, 0] > red[:, 2] + 100).any()
    # A faster tempo moves the shape further between frames.
    fast, slow = draw_frames(loud, "calm", 1, config), draw_frames(quiet, "calm", 1, config)

    def motion(frames):
        a = [np.asarray(f, float) for f in frames]
        return np.mean([np.abs(x - y).mean() for x, y in zip(a, a[1:], strict=False)])

    assert motion(fast) > motion(slow)


def test_tracks_are_split_within_each_mood():
    moods = ["calm"] * 6 + ["happy"] * 2 + ["tender"]
    split = split_tracks(moods, 0.3, seed=0)
    assert split == split_tracks(moods, 0.3, seed=0)
    assert split[:6].count("test") == 2 and split[6:8].count("test") == 1
    assert split[8] == "train"  # a mood with one track cannot be in both splits


def _toy_features(rows: int = 96, seed: int = 0) -> PairedFeatures:
    """Music = a random code per clip; video and text = noisy linear views of it."""
    rng = np.random.default_rng(seed)
    clips = rng.integers(0, rows // 2, rows)
    codes = rng.normal(size=(rows // 2, 12)).astype(np.float32)
    music = codes[clips]
    video = music @ rng.normal(size=(12, 20)) + 0.3 * rng.normal(size=(rows, 20))
    text = music @ rng.normal(size=(12, 16)) + 0.3 * rng.normal(size=(rows, 16))
    return PairedFeatures(video.astype(np.float32), text.astype(np.float32), music, clips)


def test_training_is_interrupted_and_resumes_exactly(tmp_path):
    features = _toy_features()
    config = RetrievalTrainConfig(steps=30, batch_size=32, checkpoint_every=10)
    _, whole = train_retrieval(features, config, tmp_path / "whole")

    def stop_at_step_25(step: int, total: int, loss: float) -> None:
        if step == 25:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_retrieval(features, config, tmp_path / "cut", stop_at_step_25)
    assert not (tmp_path / "cut" / "trimodal.pt").exists()
    _, resumed = train_retrieval(features, config, tmp_path / "cut")
    assert resumed.resumed_from == 20 and resumed.steps_run == 10
    assert resumed.losses == whole.losses
    a, b = load_model(tmp_path / "whole"), load_model(tmp_path / "cut")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    assert not list((tmp_path / "cut").glob("*.partial*"))
    other = config.model_copy(update={"learning_rate": 0.01})
    with pytest.raises(CheckpointMismatchError, match="another config or other data"):
        train_retrieval(features, other, tmp_path / "cut")
    with pytest.raises(CheckpointMismatchError, match="another config or other data"):
        train_retrieval(_toy_features(seed=1), config, tmp_path / "cut")


def test_the_model_learns_toy_pairs_and_retrieves_with_either_modality(tmp_path):
    train, test = _toy_features(seed=0), _toy_features(seed=0)
    model, _ = train_retrieval(train, RetrievalTrainConfig(steps=150, batch_size=48), tmp_path)
    with torch.no_grad():
        music = model.encode_music(torch.from_numpy(test.music))
        for video, text in ((test.video, None), (None, test.text), (test.video, test.text)):
            query = model.encode_query(
                None if video is None else torch.from_numpy(video),
                None if text is None else torch.from_numpy(text),
            )
            ranks = true_item_ranks((query @ music.T).numpy(), np.arange(len(test.clip)))
            # Several rows share a clip's music; the true clip must still rank near the top.
            assert rank_scores(ranks, len(ranks)).recall[5] > 0.8
    with pytest.raises(ValueError, match="video, a text, or both"):
        model.encode_query(None, None)


def test_rank_scores_and_chance():
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.1], [0.5, 0.5, 0.5]])
    ranks = true_item_ranks(scores, np.array([0, 0, 2]))
    assert ranks.tolist() == [1, 2, 3]  # ties count against the true item
    report = rank_scores(ranks, 3, ks=(1, 2))
    assert report.recall == {1: 1 / 3, 2: 2 / 3} and report.median_rank == 2
    assert chance_scores(100, 5).recall[10] == 0.1 and chance_scores(100, 5).median_rank == 50.5


# -- the workflow on the 28 packaged tracks ------------------------------------------------


@pytest.fixture(scope="module")
def trained(world_spec, tmp_path_factory, prefect_harness):
    """Describe the packaged library, build the paired set and train: caches (tags, LLM
    answers, paired videos) live in the user cache, outputs in a temporary folder."""
    from clipflows.components.music.tracks import packaged_tracks_dir
    from clipflows.flows.music_library import describe_library
    from clipflows.flows.music_retrieval import train_music_retrieval

    root = tmp_path_factory.mktemp("music-video")
    settings = Settings(cache_dir=default_cache_dir(), clip=world_spec)
    describe_library(str(packaged_tracks_dir()), str(root / "library"), settings)
    result = train_music_retrieval(str(root / "library"), str(root / "model"), settings)
    return settings, root, result


@pytest.mark.slow
def test_trained_model_beats_chance_and_no_training_on_held_out_tracks(trained):
    _, _, result = trained
    assert result.tracks["test"] >= 5 and result.tracks["train"] >= 15
    scores = result.scores
    chance = scores["trained"]["chance"]
    for mode in ("video", "video+text"):
        ours, untrained = scores["trained"][mode], scores["untrained"][mode]
        assert ours.recall[10] > 2 * chance.recall[10], mode
        assert ours.median_rank < 0.6 * chance.median_rank, mode
        assert ours.median_rank < 0.6 * untrained.median_rank, mode


@pytest.mark.slow
def test_text_dropout_makes_video_alone_a_better_query(trained):
    """Averaged over seeds: trained with text dropout vs always with text, queried by video."""
    from clipflows.components.music.paired_set import PairedSet
    from clipflows.components.music.retrieval_evaluation import evaluate_retrieval

    settings, root, _ = trained
    folder = next(p.parent for p in (settings.cache_dir / "music-video").glob("*/pairs.json"))
    paired = PairedSet.load(folder)
    recall = {True: [], False: []}
    for seed in range(3):
        for dropout in (True, False):
            config = RetrievalTrainConfig(
                seed=seed,
                text_dropout=0.5 if dropout else 0.0,
                video_dropout=0.2 if dropout else 0.0,
            )
            target = root / f"seed{seed}-{dropout}"
            model, _ = train_retrieval(paired.features("train"), config, target)
            recall[dropout].append(evaluate_retrieval(model, paired)["video"].recall[10])
            shutil.rmtree(target)
    assert np.mean(recall[True]) > np.mean(recall[False]) + 0.03, recall


@pytest.mark.slow
def test_a_rerun_reuses_videos_and_the_trained_model(trained):
    from clipflows.flows.music_retrieval import train_music_retrieval

    settings, root, first = trained
    again = train_music_retrieval(str(root / "library"), str(root / "model"), settings)
    assert not again.videos_built and again.steps_run == 0
    assert again.scores["trained"]["video"] == first.scores["trained"]["video"]


@pytest.mark.slow
def test_recommend_ranks_tracks_and_generates_with_the_debug_model(trained, tmp_path):
    from clipflows.flows.music_retrieval import recommend, sample_videos

    settings, root, _ = trained
    samples = sample_videos(root / "model")
    assert len(samples) == 5  # one held-out video per mood
    result = recommend(
        str(samples[0]),
        "calm acoustic guitar",
        k=4,
        model_dir=str(root / "model"),
        settings=settings,
        generate=True,
        generator="debug",
        generate_seconds=1.0,
        output=str(tmp_path),
    )
    scores = [r.score for r in result.recommendations]
    assert len(scores) == 4 and scores == sorted(scores, reverse=True)
    assert len({r.track.path for r in result.recommendations}) == 4
    assert all(r.track.description and r.track.top_tags for r in result.recommendations)
    assert abs(sf.info(result.generated.path).duration - 1.0) < 0.05
    assert (tmp_path / "result.json").is_file()
    text_only = recommend(
        None, "energetic electronic dance", k=3, model_dir=str(root / "model"), settings=settings
    )
    assert len(text_only.recommendations) == 3 and text_only.generated is None


@pytest.mark.slow
def test_recommend_errors_are_clear(trained, tmp_path, monkeypatch):
    from clipflows.flows.music_retrieval import recommend, sample_videos

    settings, root, _ = trained
    model_dir = str(root / "model")
    with pytest.raises(EmptyInputError, match="video, a text wish, or both"):
        recommend.fn(None, "   ", model_dir=model_dir, settings=settings)
    (tmp_path / "audio.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(VideoError):
        recommend.fn(str(tmp_path / "audio.mp4"), model_dir=model_dir, settings=settings)
    with pytest.raises(ClipflowsError, match="music-train"):
        recommend.fn(None, "calm", model_dir=str(tmp_path / "none"), settings=settings)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with no_network(monkeypatch):
        offline = recommend.fn(
            str(sample_videos(root / "model")[0]),
            k=2,
            model_dir=model_dir,
            settings=settings,
            generate=True,
            output=str(tmp_path / "out"),
        )
    assert len(offline.recommendations) == 2 and offline.generated is None
    assert "Hugging Face cache" in offline.generation_error


@pytest.mark.slow
def test_generate_below_generates_only_when_the_best_track_scores_below_it(trained, tmp_path):
    from clipflows.flows.music_retrieval import recommend

    settings, root, _ = trained
    asked = dict(k=2, model_dir=str(root / "model"), settings=settings, generator="debug")
    ranked = recommend(None, "calm acoustic guitar", **asked)
    best = ranked.recommendations[0].score
    weak = recommend(
        None,
        "calm acoustic guitar",
        generate_below=best + 0.01,
        generate_seconds=1.0,
        output=str(tmp_path / "weak"),
        **asked,
    )
    assert weak.generated is not None and weak.recommendations == ranked.recommendations
    strong = recommend(None, "calm acoustic guitar", generate_below=best - 0.01, **asked)
    assert strong.generated is None
