"""The README's Python examples run as written, on files made for them (world images, a mixture)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)


def test_the_readme_has_its_python_examples():
    blocks = python_blocks()
    assert len(blocks) >= 4
    assert any("from clipflows.components.clip import ClipEncoder" in b for b in blocks)


@pytest.mark.slow
def test_the_readme_python_examples_run_as_written(tmp_path, world_clip_dir):
    from clipflows.components.separation.mixtures import demo_mixture
    from clipflows.components.separation.store import DEFAULT_SEPARATOR
    from clipflows.components.world.scenes import WorldConfig, write_dataset

    for year, colour in (("2025", "red"), ("2026", "blue")):
        write_dataset(WorldConfig(colours=[colour], seed=int(year)), 12, tmp_path / "w" / year)
        (tmp_path / "photos" / year).parent.mkdir(exist_ok=True)
        (tmp_path / "w" / year / "images").rename(tmp_path / "photos" / year)
    (tmp_path / "a.png").hardlink_to(tmp_path / "photos" / "2025" / "000000.png")
    wav, _ = demo_mixture(tmp_path, DEFAULT_SEPARATOR.sources, DEFAULT_SEPARATOR.audio)
    import soundfile as sf

    samples, rate = sf.read(wav)
    sf.write(tmp_path / "recording.mp3", samples, rate)
    code = "\n".join(python_blocks())
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPFLOWS_")}
    # The examples are written for a user's photos (the default, real CLIP); their files here
    # are world renders, so they run on the world CLIP, named as a user would name it.
    env["CLIPFLOWS_CLIP"] = "world"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert (tmp_path / "report" / "result.json").is_file()
    assert (tmp_path / "dog.wav").is_file() and (tmp_path / "dog.residual.wav").is_file()
