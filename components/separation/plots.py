"""Figures of separation: the training loss curve and mixture / mask / estimate spectrograms."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clipflows.components.files import save_figure_whole
from clipflows.components.separation.inference import Separator


def plot_losses(losses: list[float], path: Path, validation: list | None = None) -> Path:
    """The training loss curve (batch and running mean, validation points) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3))
    window = max(1, len(losses) // 50)
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    axis.plot(losses, alpha=0.3, label="batch")
    axis.plot(np.arange(len(smooth)) + window - 1, smooth, label=f"mean of {window}")
    if validation:
        steps, values = zip(*validation, strict=True)
        axis.plot(steps, values, "o-", label="validation")
    axis.set_xlabel("step")
    axis.set_ylabel("weighted BCE")
    axis.legend()
    figure.tight_layout()
    save_figure_whole(figure, path, dpi=100)
    plt.close(figure)
    return path


def plot_separation(separator: Separator, clip: np.ndarray, query: np.ndarray, path: Path) -> Path:
    """Mixture, mask and estimate spectrograms of the first clip."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    clip = np.pad(clip, (0, max(0, separator.audio.clip_samples - len(clip))))
    estimate, mask = separator.separate_clips(clip[None], query)
    spec = separator.spectrogram
    panels = {
        "mixture": spec.stft(torch.from_numpy(clip)).abs().numpy(),
        "mask": mask[0],
        "estimate": spec.stft(torch.from_numpy(estimate[0])).abs().numpy(),
    }
    figure, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    for axis, (title, values) in zip(axes, panels.items(), strict=True):
        shown = values if title == "mask" else np.log1p(values)
        axis.imshow(shown, origin="lower", aspect="auto", cmap="magma")
        axis.set_title(title)
        axis.set_xlabel("frame")
    axes[0].set_ylabel("frequency bin")
    figure.tight_layout()
    save_figure_whole(figure, path, dpi=90)
    plt.close(figure)
    return path
