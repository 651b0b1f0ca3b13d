"""End to end in a real browser: the app served on 127.0.0.1, driven in headless Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cdp_browser import Browser, chromium_path, free_port, wait_for_url

from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, write_pair


@pytest.fixture(autouse=True)
def chromium_installed() -> None:
    """A browser these tests need is a dependency, not a reason to skip: its absence fails."""
    if chromium_path() is None:
        pytest.fail("Debian chromium is not installed: `make system-deps` (as root) installs it.")


APP = Path(__file__).resolve().parents[1] / "ui" / "app.py"


@contextmanager
def serve_app(cache_dir: Path, clip: str, log_path: Path) -> Iterator[str]:
    """``streamlit run`` on a free port; stopped by PID when the block ends."""
    port = free_port()
    env = {
        **os.environ,
        "CLIPFLOWS_CACHE_DIR": str(cache_dir),
        "CLIPFLOWS_CLIP": clip,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", "127.0.0.1",
        "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log_path.open("w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_url(f"http://127.0.0.1:{port}/_stcore/health", 120)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=30)


@pytest.fixture
def served_app(tmp_path, world_spec):
    """The app with the world CLIP and a fresh cache."""
    with serve_app(tmp_path / "cache", world_spec, tmp_path / "streamlit.log") as url:
        yield url


@pytest.mark.slow
def test_set_difference_page_in_chromium(served_app, tmp_path):
    set_a, set_b = write_pair(WORLD_SET_PAIRS[0], tmp_path / "sets", count=20)
    query = urllib.parse.urlencode(
        {"set_a": str(set_a), "set_b": str(set_b), "llm": "0", "vocabulary": "world"}
    )
    browser = Browser(tmp_path / "chromium-profile")
    try:
        browser.goto(f"{served_app}/set_difference?{query}")
        browser.wait_for_text("Set B folder", 120)
        deadline = time.monotonic() + 30
        while not browser.click_button("Run"):
            assert time.monotonic() < deadline, "no Run button"
            time.sleep(0.5)
        # While it runs, a progress bar names the flow's current step.
        browser.wait_for(
            "[...document.querySelectorAll('[role=progressbar]')].length > 0 && "
            "document.body.innerText.includes('(step ')",
            300,
        )
        body = browser.wait_for_text("Top difference:", 600)
        browser.wait_for(
            "[...document.images].filter(i => i.complete && i.naturalWidth).length >= 16", 60
        )
        shot = browser.screenshot(tmp_path / "set-difference.png")
    finally:
        browser.close()
    assert "Top difference: red (more true of A" in body
    assert shot.stat().st_size > 20_000
    print(f"screenshot: {shot}")


@pytest.fixture
def music_model_cache(world_spec, prefect_harness) -> Path:
    """The user cache, with the music model trained (from cached tags, answers and videos)."""
    from clipflows.components.music.tracks import packaged_tracks_dir
    from clipflows.components.settings import Settings, default_cache_dir
    from clipflows.flows.music_library import describe_library
    from clipflows.flows.music_retrieval import default_model_dir, train_music_retrieval

    settings = Settings(cache_dir=default_cache_dir(), clip=world_spec)
    if not (default_model_dir(settings) / "music_index.npz").is_file():
        library = settings.cache_dir / "music-library"
        describe_library(str(packaged_tracks_dir()), str(library), settings)
        train_music_retrieval(str(library), settings=settings)
    return settings.cache_dir


def run_page(browser: Browser, url: str, button: str, done: str, timeout_s: float) -> str:
    """Open a page, press its button once it is drawn, and wait until ``done`` is shown."""
    browser.goto(url)
    browser.wait_for_text(button, 120)
    deadline = time.monotonic() + 30
    while not browser.click_button(button):
        assert time.monotonic() < deadline, f"no {button} button on {url}"
        time.sleep(0.5)
    return browser.wait_for_text(done, timeout_s)


@pytest.mark.slow
def test_every_page_in_chromium(music_model_cache, tmp_path, world_spec):
    """Home, music (run), separation (run), classification, runs and assistant, screenshotted;
    models come from the user cache (trained by earlier tests or on first use)."""
    browser = Browser(tmp_path / "chromium-profile")
    shots, texts = {}, {}
    with serve_app(music_model_cache, world_spec, tmp_path / "streamlit.log") as served:
        try:
            browser.goto(served)
            texts["home"] = browser.wait_for_text("LLM reachable", 120)
            shots["home"] = browser.screenshot(tmp_path / "home.png")
            run_page(browser, f"{served}/music", "Find music", "best-matching part", 300)
            browser.wait_for(
                'document.body.innerText.split("best-matching part starts at").length > 5', 300
            )
            texts["music"] = browser.evaluate("document.body.innerText")
            shots["music"] = browser.screenshot(tmp_path / "music.png")
            texts["separation"] = run_page(
                browser, f"{served}/separation", "Separate", "Residual", 300
            )
            browser.wait_for(  # three players and the spectrogram figure
                "document.querySelectorAll('audio').length >= 3 && [...document.images]"
                ".filter(i => i.complete && i.naturalWidth > 200).length >= 1",
                60,
            )
            shots["separation"] = browser.screenshot(tmp_path / "separation.png")
            for name, marker in (
                ("classification", "Ambiguity set size"),
                ("runs", "-music-"),  # the run above is listed
                ("assistant", "Assistant"),
            ):
                browser.goto(f"{served}/{name}")
                texts[name] = browser.wait_for_text(marker, 120)
                shots[name] = browser.screenshot(tmp_path / f"{name}.png")
        finally:
            browser.close()
    assert "Music for video" in texts["home"] and "Set difference" in texts["home"]
    assert texts["music"].count("best-matching part starts at") == 5
    assert "tags:" in texts["music"]
    assert "Mixture" in texts["separation"] and "Separated" in texts["separation"]
    assert all(shot.stat().st_size > 10_000 for shot in shots.values())
    print("screenshots:", " ".join(str(s) for s in shots.values()))


def test_clipflows_ui_serves_the_app(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "clipflows.flows.cli", "ui", "--port", str(port)]
    env = {**os.environ, "CLIPFLOWS_CACHE_DIR": str(tmp_path / "cache")}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        assert wait_for_url(f"http://127.0.0.1:{port}/_stcore/health", 120) == "ok"
    finally:
        server.terminate()
        server.wait(timeout=30)
