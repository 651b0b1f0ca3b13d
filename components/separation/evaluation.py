"""How well queries separate held-out mixtures: SI-SDR improvement and BSS Eval v4.

Each mixture is separated twice, once per source's query. References on the same mixtures:
the mixture itself (0 dB improvement), the oracle ideal ratio mask (an upper bound for masking
with the mixture's phase) and any other model, e.g. the unconditioned one.
"""

from __future__ import annotations

import numpy as np
import torch
from pydantic import BaseModel

from clipflows.components.reports import markdown_table
from clipflows.components.separation.inference import Separator
from clipflows.components.separation.mixtures import Mixture


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scale-invariant SDR in dB, row by row (torchmetrics' definition)."""
    from torchmetrics.functional.audio import scale_invariant_signal_distortion_ratio

    return scale_invariant_signal_distortion_ratio(
        torch.from_numpy(estimate), torch.from_numpy(reference), zero_mean=True
    ).numpy()


def bss_eval(
    estimate: np.ndarray, reference: np.ndarray, interferer: np.ndarray
) -> dict[str, float]:
    """museval (BSS Eval v4) SDR/SIR/SAR of the target over the whole clip."""
    import museval

    references = np.stack([reference, interferer])[..., None]
    residual = (reference + interferer) - estimate
    if not np.any(residual):  # the mixture as its own estimate: museval refuses a silent source
        residual = np.random.default_rng(0).normal(0, 1e-6, residual.shape)
    estimates = np.stack([estimate, residual])[..., None]
    sdr, _isr, sir, sar, _perm = museval.metrics.bss_eval(
        references, estimates, window=np.inf, hop=np.inf, compute_permutation=False
    )
    return {"sdr": float(sdr[0, 0]), "sir": float(sir[0, 0]), "sar": float(sar[0, 0])}


class MethodScores(BaseModel):
    method: str
    si_sdr_improvement: float  # mean over all (mixture, target) cases, dB
    sdr: float
    sir: float
    sar: float
    per_class: dict[str, float]  # mean SI-SDR improvement per queried class


def ideal_ratio_mask_estimates(separator: Separator, mixtures: list[Mixture]) -> np.ndarray:
    """The oracle: each source's magnitude share of the mixture, applied with the mixture phase."""
    spec = separator.spectrogram
    sources = torch.from_numpy(np.stack([m.sources for m in mixtures]))
    magnitudes = spec.stft(sources).abs()
    mask = magnitudes / magnitudes.sum(dim=1, keepdim=True).clamp_min(1e-8)
    mix = spec.stft(sources.sum(dim=1)).unsqueeze(1)
    return spec.istft(mix * mask, sources.shape[-1]).numpy()  # [N, 2, samples]


def model_estimates(
    separator: Separator, mixtures: list[Mixture], queries: np.ndarray
) -> np.ndarray:
    """[N, 2, samples]: each mixture separated with each of its two sources' queries."""
    out = np.zeros((len(mixtures), 2, len(mixtures[0].mix)), np.float32)
    for index, mixture in enumerate(mixtures):
        for slot, cls in enumerate(mixture.classes):
            out[index, slot] = separator.separate_clips(mixture.mix[None], queries[cls])[0][0]
    return out


def score(
    method: str, estimates: np.ndarray, mixtures: list[Mixture], class_names: list[str]
) -> MethodScores:
    references = np.stack([m.sources for m in mixtures])  # [N, 2, samples]
    mixes = np.repeat(np.stack([m.mix for m in mixtures])[:, None], 2, axis=1)
    flat = lambda x: x.reshape(-1, x.shape[-1])  # noqa: E731
    improvement = si_sdr(flat(estimates), flat(references)) - si_sdr(flat(mixes), flat(references))
    classes = [class_names[c] for m in mixtures for c in m.classes]
    bss = [
        bss_eval(estimates[i, s], references[i, s], references[i, 1 - s])
        for i in range(len(mixtures))
        for s in range(2)
    ]
    return MethodScores(
        method=method,
        si_sdr_improvement=float(np.mean(improvement)),
        sdr=float(np.nanmean([b["sdr"] for b in bss])),
        sir=float(np.nanmean([b["sir"] for b in bss])),
        sar=float(np.nanmean([b["sar"] for b in bss])),
        per_class={
            name: float(
                np.mean([v for v, c in zip(improvement, classes, strict=True) if c == name])
            )
            for name in sorted(set(classes))
        },
    )


def evaluation_markdown(mixtures: int, methods: list[MethodScores]) -> str:
    """One table: each method's SI-SDR improvement, BSS Eval scores and per-class gains."""
    classes = sorted(methods[0].per_class)
    rows = [
        (m.method, *(f"{v:.2f}" for v in (m.si_sdr_improvement, m.sdr, m.sir, m.sar)))
        + tuple(f"{m.per_class[c]:.1f}" for c in classes)
        for m in methods
    ]
    headers = ["method", "SI-SDRi dB", "SDR", "SIR", "SAR", *classes]
    intro = f"Held-out mixtures: {mixtures} (each separated for both sources)"
    return "\n".join([intro, "", *markdown_table(headers, rows)]) + "\n"
