"""End to end in a real browser: the app served on 127.0.0.1, driven in headless Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from cdp_browser import Browser, chromium_path, free_port, wait_for_url

from clipflows.components.world_sets import WORLD_SET_PAIRS, write_pair

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="Debian chromium is not installed (make installs it)"
)
APP = Path(__file__).resolve().parents[1] / "ui" / "app.py"


@pytest.fixture
def served_app(tmp_path, world_spec):
    """``streamlit run`` on a free port with the world CLIP; stopped by PID afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "CLIPFLOWS_CACHE_DIR": str(tmp_path / "cache"),
        "CLIPFLOWS_CLIP": world_spec,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", "127.0.0.1",
        "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_url(f"http://127.0.0.1:{port}/_stcore/health", 120)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


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
