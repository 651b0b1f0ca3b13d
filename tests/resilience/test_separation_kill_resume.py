"""Kill separation training once a checkpoint is on disk, rerun: it resumes from that checkpoint
and ends with the weights of a run that was never interrupted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from test_kill_resume import kill_when, start

from clipflows.components.separation.model import SeparatorConfig
from clipflows.components.separation.sources import SourceSplit
from clipflows.components.separation.training import (
    CHECKPOINT,
    MODEL,
    SeparationTrainConfig,
    load_separator,
    train_separator,
)

pytestmark = pytest.mark.slow
STEPS, EVERY = 30, 5
CONFIG = SeparationTrainConfig(
    steps=STEPS,
    batch_size=2,
    checkpoint_every=EVERY,
    validation_mixtures=2,
    model=SeparatorConfig(depth=2, base_channels=4, feature_maps=4),
)
QUERIES = np.eye(3, 8, dtype=np.float32)

TRAIN = """
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_separation_kill_resume import CONFIG, QUERIES, tone_splits
    from clipflows.components.separation.training import train_separator
    train_separator(CONFIG, tone_splits(), QUERIES, Path({output!r}))
"""


def tone_splits() -> list[SourceSplit]:
    """Three noisy tones, seeded: the same audio in every process."""
    rng = np.random.default_rng(0)
    t = np.arange(8000 * 6) / 8000
    tones = [0.3 * np.sin(2 * np.pi * f * t) for f in (300, 1200, 2500)]
    return [
        SourceSplit(
            name=f"tone{i}", query=f"tone {i}", train=x + rng.normal(0, 1e-3, x.shape), test=x
        )
        for i, x in enumerate(tones)
    ]


def test_separation_training_killed_after_a_checkpoint_resumes_to_the_same_weights(tmp_path):
    output = tmp_path / "killed"
    script = TRAIN.format(tests=str(Path(__file__).parent), output=str(output))
    log = tmp_path / "child.log"
    child = start(script, tmp_path / "cache", "unused", log)
    kill_when(child, lambda: (output / CHECKPOINT).is_file(), 300, log)
    saved = torch.load(output / CHECKPOINT, weights_only=False)["step"]
    assert 0 < saved < STEPS and saved % EVERY == 0 and not (output / MODEL).exists()

    resumed = train_separator(CONFIG, tone_splits(), QUERIES, output)
    assert resumed.resumed_from == saved
    assert resumed.steps_run == STEPS - saved  # no step before the checkpoint is run again
    assert train_separator(CONFIG, tone_splits(), QUERIES, output).steps_run == 0

    whole = train_separator(CONFIG, tone_splits(), QUERIES, tmp_path / "whole")
    assert whole.steps_run == STEPS and whole.losses == resumed.losses
    assert whole.validation == resumed.validation
    a, b = (
        load_separator(output)[0].state_dict(),
        load_separator(tmp_path / "whole")[0].state_dict(),
    )
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # bitwise
    assert not list(tmp_path.rglob("*.partial*"))  # every file written whole, then renamed
    print(f"killed with step {saved} saved; the rerun ran {resumed.steps_run} of {STEPS} steps")
