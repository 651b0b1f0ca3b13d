"""Charts the pages draw: labelled axes, short tick labels, and colours that name nothing."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

# Two greys: a set named "red shapes" must not be drawn blue (nor red, when B is "blue shapes").
SET_COLOURS = ("#3b3b3b", "#a8a8a8")


def score_histogram(scores: dict[str, np.ndarray], hypothesis: str, bins: int = 20) -> alt.Chart:
    """How CLIP scores one hypothesis on each set's images: bars per bin, the sets side by side.

    ``scores`` maps a set's name to its images' similarities to the hypothesis (A first)."""
    values = np.concatenate([np.asarray(v, dtype=float) for v in scores.values()])
    edges = np.histogram_bin_edges(values, bins=bins)
    digits = _digits(edges[1] - edges[0])
    labels = [f"{(lo + hi) / 2:.{digits}f}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    rows = [
        {"similarity": label, "set": name, "images": int(count)}
        for name, set_scores in scores.items()
        for label, count in zip(labels, np.histogram(set_scores, edges)[0], strict=True)
    ]
    names = list(scores)
    return (
        alt.Chart(pd.DataFrame(rows))
        .mark_bar()
        .encode(
            x=alt.X(
                "similarity:O",
                sort=labels,
                title=f'CLIP similarity to "{hypothesis}" (bin centre)',
                axis=alt.Axis(labelAngle=-45),
            ),
            xOffset=alt.XOffset("set:N", sort=names),
            y=alt.Y("images:Q", title="images"),
            color=alt.Color(
                "set:N",
                sort=names,
                scale=alt.Scale(domain=names, range=list(SET_COLOURS[: len(names)])),
                title="set",
            ),
            tooltip=["set", "similarity", "images"],
        )
    )


def _digits(width: float) -> int:
    """Decimals that tell neighbouring bins apart and no more (a width of 0.0072 -> 3)."""
    if not np.isfinite(width) or width <= 0:
        return 2
    return int(min(6, max(1, np.ceil(-np.log10(width)))))
