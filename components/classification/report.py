"""Classification results: accuracy per method, most-confused pairs, images whose answer changed;
as Markdown and self-contained HTML (JSON is the result model itself)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel
from sklearn.metrics import confusion_matrix

from clipflows.components.reports import markdown_table, thumbnail_html


class MethodAccuracy(BaseModel):
    method: str
    accuracy: float  # on the test split
    note: str = ""


class ConfusedPair(BaseModel):
    class_a: str
    class_b: str
    count: int  # images of either class predicted as the other


class ChangedExample(BaseModel):
    path: str
    truth: str
    before: str
    after: str


def percent(accuracy: float) -> str:
    """An accuracy as every report, the CLI and the web app show it: 0.1667 -> '16.7%'."""
    return "n/a" if accuracy != accuracy else f"{accuracy:.1%}"  # NaN: no test images


def changed_text(example: ChangedExample, before: str = "first pass", after: str = "fused") -> str:
    """What an image is and what each method said: 'truth blue tile; first pass blue tile; fused
    red tile' (an image fusion broke), so the answer it changed to is never left out."""
    return f"truth {example.truth}; {before} {example.before}; {after} {example.after}"


def method_accuracies(
    baselines: dict[str, tuple[np.ndarray, str]],
    predicted: dict[str, np.ndarray],
    labels: np.ndarray,
    test: np.ndarray,
    fusion: BaseModel,
) -> list[MethodAccuracy]:
    """Accuracy on the test split, baselines first, in the order of the paper's table.

    ``baselines`` maps a method to (predicted class per image, note); ``predicted`` holds the
    first pass, FuDD's rule, the fused answer and, after a follow-up, the answer before it."""

    def accuracy(prediction: np.ndarray) -> float:
        return float((prediction[test] == labels[test]).mean()) if len(test) else float("nan")

    oracle = np.where(predicted["first"] == labels, labels, predicted["fudd"])
    rows = [("class name", *baselines["class name"])]
    rows.append(("one template", predicted["first"], "first pass"))
    rows += [(name, *value) for name, value in baselines.items() if name != "class name"]
    if "before follow-up" in predicted:
        rows.append(("FuDD before follow-up", predicted["before follow-up"], "second pass only"))
    rows += [
        ("FuDD (paper rule)", predicted["fudd"], "second pass only"),
        (
            "FuDD + fusion",
            predicted["fused"],
            f"weight {fusion.weight:.2f} on the second pass, chosen on validation",
        ),
        ("oracle pick between passes", oracle, "upper bound of any per-image choice"),
    ]
    return [MethodAccuracy(method=m, accuracy=accuracy(p), note=note) for m, p, note in rows]


def confused_pairs(
    labels: np.ndarray, predicted: np.ndarray, class_names: Sequence[str], top: int = 10
) -> list[ConfusedPair]:
    """The unordered class pairs mixed up most often, both directions counted."""
    matrix = confusion_matrix(labels, predicted, labels=list(range(len(class_names))))
    both = np.triu(matrix + matrix.T, k=1)
    rows, cols = np.nonzero(both)
    order = np.argsort(-both[rows, cols], kind="stable")[:top]
    return [
        ConfusedPair(
            class_a=class_names[rows[i]],
            class_b=class_names[cols[i]],
            count=int(both[rows[i], cols[i]]),
        )
        for i in order
    ]


def changed_examples(
    paths: Sequence[str],
    labels: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    class_names: Sequence[str],
    limit: int = 8,
) -> tuple[list[ChangedExample], list[ChangedExample]]:
    """(fixed, broken): images the second method got right that the first got wrong, and back."""

    def pick(mask: np.ndarray) -> list[ChangedExample]:
        return [
            ChangedExample(
                path=paths[i],
                truth=class_names[labels[i]],
                before=class_names[before[i]],
                after=class_names[after[i]],
            )
            for i in np.flatnonzero(mask)[:limit]
        ]

    right_before, right_after = before == labels, after == labels
    return pick(~right_before & right_after), pick(right_before & ~right_after)


def to_markdown(title: str, result: BaseModel) -> str:
    """Accuracy table, confused pairs and changed examples as Markdown."""
    lines = [f"# {title}", ""]
    lines += markdown_table(
        ["method", "accuracy", "note"],
        [(m.method, percent(m.accuracy), m.note) for m in result.methods],
    )
    lines += [
        "",
        f"Test split: {result.test_images} images; fusion chosen on {result.validation_images}.",
        "",
    ]
    lines += ["## Most-confused pairs (first pass)", ""]
    lines += [f"- {p.class_a} / {p.class_b}: {p.count}" for p in result.confused] or ["- none"]
    for label, examples in (("Fixed by", result.fixed), ("Broken by", result.broken)):
        lines += ["", f"## {label} {result.changed_by} (vs. the first pass)", ""]
        lines += [f"- {e.path}: {e.truth} (was {e.before}, now {e.after})" for e in examples] or [
            "- none"
        ]
    return "\n".join(lines) + "\n"


def to_html(title: str, result: BaseModel) -> str:
    """Self-contained HTML with thumbnails of the changed examples."""
    rows = "".join(
        f"<tr><td>{html.escape(m.method)}</td><td>{percent(m.accuracy)}</td><td>{html.escape(m.note)}</td></tr>"
        for m in result.methods
    )
    confused = "".join(
        f"<li>{html.escape(p.class_a)} / {html.escape(p.class_b)}: {p.count}</li>"
        for p in result.confused
    )
    parts = [
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
        ".ex{display:inline-block;margin:4px;text-align:center;font-size:12px}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><table><tr><th>method</th><th>accuracy</th><th>note</th></tr>{rows}</table>",
        f"<p>Test split: {result.test_images} images; fusion chosen on {result.validation_images}.</p>",
        f"<h2>Most-confused pairs (first pass)</h2><ul>{confused}</ul>",
    ]
    for label, examples in (("Fixed by", result.fixed), ("Broken by", result.broken)):
        parts.append(f"<h2>{label} {html.escape(result.changed_by)}</h2>")
        parts += [
            f"<div class='ex'>{thumbnail_html(e.path)}<br>{html.escape(e.truth)}<br>"
            f"was {html.escape(e.before)}, now {html.escape(e.after)}</div>"
            for e in examples
        ] or ["<p>none</p>"]
    parts.append("</body></html>")
    return "\n".join(parts)
