"""A headless Chromium driven over its remote-debugging protocol, for end-to-end UI tests.

Written here rather than with Playwright or Selenium: their browser downloads fail offline, and
the protocol needs only a websocket (the ``websockets`` package comes with Prefect/Streamlit).
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from websockets.sync.client import connect

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--window-size=1400,1800",
]  # fmt: skip


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_url(url: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s") from None
            time.sleep(0.5)


class Browser:
    """One page of a headless Chromium; ``evaluate`` runs JavaScript and returns its value."""

    def __init__(self, profile: Path):
        self.port = free_port()
        self.process = subprocess.Popen(
            [chromium_path(), *FLAGS, f"--remote-debugging-port={self.port}",
             f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_url(f"http://127.0.0.1:{self.port}/json/version", 60)
        pages = json.loads(wait_for_url(f"http://127.0.0.1:{self.port}/json/list", 10))
        target = next(p for p in pages if p["type"] == "page")
        self.socket = connect(target["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024)
        self.ids = itertools.count(1)

    def send(self, method: str, **params) -> dict:
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.socket.recv(timeout=120))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def goto(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def wait_for_text(self, text: str, timeout_s: float) -> str:
        """Poll the page's visible text until it contains ``text``; returns the whole text."""
        deadline = time.monotonic() + timeout_s
        while True:
            body = self.evaluate("document.body ? document.body.innerText : ''") or ""
            if text in body:
                return body
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{text!r} not on the page after {timeout_s:.0f} s:\n{body[-1500:]}"
                )
            time.sleep(0.5)

    def wait_for(self, condition: str, timeout_s: float) -> None:
        """Poll a JavaScript condition until it is true."""
        deadline = time.monotonic() + timeout_s
        while not self.evaluate(condition):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{condition} still false after {timeout_s:.0f} s")
            time.sleep(0.5)

    def click_button(self, label: str) -> bool:
        return bool(
            self.evaluate(
                "(() => { const b = [...document.querySelectorAll('button')]"
                f".find(b => b.innerText.trim() === {json.dumps(label)});"
                " if (b) { b.click(); return true; } return false; })()"
            )
        )

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            self.process.wait(timeout=10)
