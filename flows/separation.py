"""CLIPSep as Prefect flows: train by mix-and-separate, evaluate on held-out mixtures, separate.

Each flow reads like the method: build the sources, encode the queries, train; separate held-out
mixtures and score them against references; stream one recording through the model.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from clipflows.components.audio import AudioError, audio_duration, audio_sample_rate
from clipflows.components.files import write_text_whole
from clipflows.components.reports import markdown_table, write_report
from clipflows.components.sentence import check_query_texts
from clipflows.components.separation.evaluation import (
    MethodScores,
    evaluation_markdown,
    ideal_ratio_mask_estimates,
    model_estimates,
    score,
)
from clipflows.components.separation.inference import Separator, separate_file
from clipflows.components.separation.mixtures import held_out_mixtures
from clipflows.components.separation.plots import plot_losses, plot_separation
from clipflows.components.separation.query_encoders import query_encoder
from clipflows.components.separation.sources import build_sources
from clipflows.components.separation.store import DEFAULT_SEPARATOR, ensure_separator
from clipflows.components.separation.training import (
    SeparationTrainConfig,
    load_separator,
    train_separator,
)
from clipflows.components.settings import Settings, load_settings
from clipflows.flows.runtime.progress import Steps, log_progress


class SeparationOutput(BaseModel):
    separated: str
    residual: str
    figure: str
    seconds: float
    query: str
    sample_rate: int  # of the written files
    model_rate: int  # the rate the model separates at


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
    markdown = evaluation_markdown(result.mixtures, result.methods)
    create_markdown_artifact(key="separation-evaluation", markdown=markdown)
    if output:
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        write_text_whole(result.model_dump_json(indent=1), folder / "evaluation.json")
        write_text_whole(markdown, folder / "evaluation.md")
    return result


@flow(name="separate")
def separate(
    audio: str,
    query: str,
    output: str,
    model: str | None = None,
    settings: Settings | None = None,
    keep_model_rate: bool = False,
    report: str | None = None,
) -> SeparationOutput:
    """The part of ``audio`` that ``query`` describes, its residual, and a spectrogram figure.

    The files are written at the input's sample rate (the model's output resampled back), or
    with ``keep_model_rate`` at the rate the model separates at. With ``report``, that folder
    gets the run's result.json and report.md (and its ``run.json``, so it lists as a run)."""
    settings = settings or load_settings()
    check_query_texts([query])  # EmptyInputError before any file is read
    path = Path(audio)
    seconds = audio_duration(path)  # AudioError naming the file, before any model is loaded
    if not seconds:
        raise AudioError(f"{path.name} holds no audio samples.")
    steps = Steps(
        "load the model",
        "encode the query",
        "separate",
        "draw the figure",
        *(["write the report"] if report else []),
    )
    steps.start("load the model")
    if model:
        folder = Path(model)
    else:  # on first use the default separator is trained (~95 s on 2 cores): say how far
        training = log_progress("train the separator (first use only)")
        folder = ensure_separator(settings, progress=training)
    trained, config = load_separator(folder)
    separator = Separator(trained, config.audio)
    model_rate = config.audio.sample_rate
    rate = model_rate if keep_model_rate else audio_sample_rate(path)
    steps.start("encode the query")
    vector = query_encoder(config.query_encoder, settings).encode_texts([query])[0]
    target = Path(output)
    residual_path = target.with_name(target.stem + ".residual.wav")
    figure_path = target.with_name(target.stem + ".png")
    target.parent.mkdir(parents=True, exist_ok=True)
    steps.start("separate")
    first_clip = separate_file(separator, path, vector, target, residual_path, rate)
    steps.start("draw the figure")
    plot_separation(separator, first_clip, vector, figure_path)
    result = SeparationOutput(
        separated=str(target),
        residual=str(residual_path),
        figure=str(figure_path),
        seconds=seconds,
        query=query,
        sample_rate=rate,
        model_rate=model_rate,
    )
    if report:
        steps.start("write the report")
        write_report(
            Path(report),
            "separation",
            {"result.json": result.model_dump_json(indent=1), "report.md": _markdown(path, result)},
        )
    return result


def _markdown(audio: Path, result: SeparationOutput) -> str:
    rows = [
        ("input", f"{audio} ({result.seconds:.1f} s)"),
        ("query", result.query),
        ("separated", result.separated),
        ("residual", result.residual),
        ("rate", f"{result.sample_rate} Hz (model {result.model_rate} Hz)"),
    ]
    return "\n".join(["# Separation", "", *markdown_table(["what", "value"], rows), ""])
