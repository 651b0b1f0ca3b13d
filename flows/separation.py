"""CLIPSep as Prefect flows: train by mix-and-separate, evaluate on held-out mixtures, separate.

``separate`` streams the input in blocks (resampled on the fly), so a two-hour recording is
processed in bounded memory; outputs are written under temporary names and renamed at the end.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from clipflows.components.atomic_files import save_figure_whole
from clipflows.components.audio import AudioError, audio_duration, open_audio, read_frames
from clipflows.components.query_encoders import check_query_texts, query_encoder
from clipflows.components.separation import Separator
from clipflows.components.separation_data import held_out_mixtures
from clipflows.components.separation_eval import (
    MethodScores,
    ideal_ratio_mask_estimates,
    model_estimates,
    score,
)
from clipflows.components.separation_training import (
    SeparationTrainConfig,
    load_separator,
    train_separator,
)
from clipflows.components.separator_store import DEFAULT_SEPARATOR, ensure_separator
from clipflows.components.settings import Settings, load_settings
from clipflows.components.sound_sources import build_sources

from .progress import log_progress

SILENCE_RMS = 1e-4


class SeparationOutput(BaseModel):
    separated: str
    residual: str
    figure: str
    seconds: float
    query: str


class SeparationEvaluation(BaseModel):
    mixtures: int
    methods: list[MethodScores]
    train_seconds: dict[str, float]


@task(name="train-separator", cache_policy=NO_CACHE)
def train_task(config: SeparationTrainConfig, output: str, settings: Settings) -> float:
    """Mix-and-separate training (resumes from the last checkpoint); returns seconds spent."""
    splits = build_sources(config.sources, config.audio.sample_rate, settings.cache_dir)
    queries = query_encoder(config.query_encoder, settings).encode_texts([s.query for s in splits])
    result = train_separator(config, splits, queries, Path(output), log_progress("train steps"))
    plot_losses(result.losses, Path(output) / "loss.png", result.validation)
    return result.seconds


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


@flow(name="train-separator")
def train_separator_flow(
    output: str, config: SeparationTrainConfig | None = None, settings: Settings | None = None
) -> str:
    """Train a query-conditioned separator into ``output`` (rerun to resume)."""
    seconds = train_task(config or DEFAULT_SEPARATOR, output, settings or load_settings())
    create_markdown_artifact(
        key="train-separator", markdown=f"Trained in {seconds:.0f} s: `{output}`"
    )
    return output


@flow(name="evaluate-separation")
def evaluate_separation(
    settings: Settings | None = None,
    config: SeparationTrainConfig | None = None,
    mixtures: int = 40,
    output: str | None = None,
) -> SeparationEvaluation:
    """Text-queried model vs the mixture, the ideal ratio mask and an unconditioned twin."""
    settings = settings or load_settings()
    config = config or DEFAULT_SEPARATOR
    twin = config.model_copy(
        update={"model": config.model.model_copy(update={"conditioned": False})}
    )
    folders, seconds = {}, {}
    for name, chosen in (("text-queried", config), ("unconditioned", twin)):
        started = time.perf_counter()
        folders[name] = ensure_separator(settings, chosen, log_progress(f"train {name}"))
        seconds[name] = round(time.perf_counter() - started, 1)  # ~0 when cached
    splits = build_sources(config.sources, config.audio.sample_rate, settings.cache_dir)
    names = [s.name for s in splits]
    queries = query_encoder(config.query_encoder, settings).encode_texts([s.query for s in splits])
    held_out = held_out_mixtures(splits, config.audio.clip_samples, mixtures)
    methods = []
    for name, folder in folders.items():
        model, _ = load_separator(folder)
        separator = Separator(model, config.audio)
        methods.append(score(name, model_estimates(separator, held_out, queries), held_out, names))
    mixture = np.repeat(np.stack([m.mix for m in held_out])[:, None], 2, axis=1)
    methods.insert(0, score("mixture", mixture, held_out, names))
    methods.append(
        score("ideal ratio mask", ideal_ratio_mask_estimates(separator, held_out), held_out, names)
    )
    result = SeparationEvaluation(mixtures=len(held_out), methods=methods, train_seconds=seconds)
    markdown = to_markdown(result)
    create_markdown_artifact(key="separation-evaluation", markdown=markdown)
    if output:
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "evaluation.json").write_text(result.model_dump_json(indent=1))
        (folder / "evaluation.md").write_text(markdown)
    return result


def to_markdown(result: SeparationEvaluation) -> str:
    classes = sorted(result.methods[0].per_class)
    lines = [
        f"Held-out mixtures: {result.mixtures} (each separated for both sources)",
        "",
        "| method | SI-SDRi dB | SDR | SIR | SAR | " + " | ".join(classes) + " |",
        "|---" * (5 + len(classes)) + "|",
    ]
    for m in result.methods:
        per_class = " | ".join(f"{m.per_class[c]:.1f}" for c in classes)
        lines.append(
            f"| {m.method} | {m.si_sdr_improvement:.2f} | {m.sdr:.2f} | {m.sir:.2f} | {m.sar:.2f} | {per_class} |"
        )
    return "\n".join(lines) + "\n"


def sample_mixture(
    folder: Path, config: SeparationTrainConfig = DEFAULT_SEPARATOR
) -> tuple[Path, np.ndarray]:
    """A held-out dog recording mixed with held-out violin, written to ``folder``; returns the
    file and the dog's part of it (the reference for a "dog" query)."""
    from clipflows.components.audio import write_audio

    splits = {s.name: s for s in build_sources(config.sources, config.audio.sample_rate)}
    length = config.audio.clip_samples
    dog = 0.5 * splits["dog"].test[:length]
    violin = 0.3 * splits["violin"].test[:length]
    path = write_audio(folder / "dog-and-violin.wav", dog + violin, config.audio.sample_rate)
    return path, dog


def _blocks(path: Path, rate: int, seconds: float = 30.0):
    """Mono blocks of a file at ``rate``, resampled as a stream (bounded memory); AudioError
    for samples that are not finite numbers (a float file with NaN or infinity in it)."""
    import soxr

    with open_audio(path) as handle:
        stream = soxr.ResampleStream(handle.samplerate, rate, 1, dtype="float32")
        size = int(handle.samplerate * seconds)
        start = 0
        while True:
            block = read_frames(handle, size)
            if not np.isfinite(block).all():
                raise AudioError(
                    f"{path.name} holds samples that are not numbers (NaN or infinity) between "
                    f"{start / handle.samplerate:.0f} s and {(start + size) / handle.samplerate:.0f} s;"
                    " export it again."
                )
            start += len(block)
            last = len(block) < size
            yield stream.resample_chunk(block.mean(axis=1), last=last)
            if last:
                return


@flow(name="separate")
def separate(
    audio: str,
    query: str,
    output: str,
    model: str | None = None,
    settings: Settings | None = None,
) -> SeparationOutput:
    """The part of ``audio`` that ``query`` describes, its residual, and a spectrogram figure."""
    settings = settings or load_settings()
    check_query_texts([query])  # EmptyInputError before any file is read
    path = Path(audio)
    seconds = audio_duration(path)  # AudioError naming the file, before any model is loaded
    if not seconds:
        raise AudioError(f"{path.name} holds no audio samples.")
    folder = Path(model) if model else ensure_separator(settings)
    trained, config = load_separator(folder)
    separator = Separator(trained, config.audio)
    vector = query_encoder(config.query_encoder, settings).encode_texts([query])[0]
    rate = config.audio.sample_rate
    target = Path(output)
    residual_path = target.with_name(target.stem + ".residual.wav")
    figure_path = target.with_name(target.stem + ".png")
    import soundfile as sf

    target.parent.mkdir(parents=True, exist_ok=True)
    partials = [tempfile.mkstemp(suffix=".wav", dir=target.parent) for _ in range(2)]
    for handle, _ in partials:
        os.close(handle)
    energy, first_clip = 0.0, None
    try:
        with (
            sf.SoundFile(partials[0][1], "w", rate, 1) as kept,
            sf.SoundFile(partials[1][1], "w", rate, 1) as rest,
        ):
            for block in _blocks(path, rate):
                if not len(block):
                    continue
                energy += float(np.sum(block**2))
                estimate = separator.separate(block, vector)
                kept.write(estimate)
                rest.write(block - estimate)
                if first_clip is None:
                    first_clip = block[: config.audio.clip_samples]
        if energy / max(1.0, seconds * rate) < SILENCE_RMS**2:
            raise AudioError(f"{path.name} is silent: there is nothing to separate.")
        os.replace(partials[0][1], target)
        os.replace(partials[1][1], residual_path)
    finally:
        for _, name in partials:
            Path(name).unlink(missing_ok=True)
    plot_separation(separator, first_clip, vector, figure_path)
    return SeparationOutput(
        separated=str(target),
        residual=str(residual_path),
        figure=str(figure_path),
        seconds=seconds,
        query=query,
    )


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
