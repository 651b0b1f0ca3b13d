"""Classification results: accuracy per method with its interval, what the result cannot be
trusted for, how it was made, most-confused pairs, images whose answer changed; as Markdown and
self-contained HTML (JSON is the result model itself)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from enum import StrEnum

import numpy as np
from pydantic import BaseModel
from sklearn.metrics import confusion_matrix

from clipflows.components.classification.evidence import ChanceLevel, wilson_interval
from clipflows.components.classification.second_pass import FusionRule, PassPredictions
from clipflows.components.reports import markdown_table, thumbnail_html


class Method(StrEnum):
    """The rows of the accuracy table: the flow, the report, the CLI, the page and the assistant
    name them through this, so a renamed row cannot leave a caller asking for the old name."""

    CLASS_NAME = "class name"
    ONE_TEMPLATE = "one template"
    ENSEMBLE_FIRST_PASS = "80-template ensemble (first pass)"
    NAME_FIRST_PASS = "class name (first pass)"
    ENSEMBLE = "80-template ensemble"
    GENERIC = "generic descriptions"
    BEFORE_FOLLOW_UP = "FuDD before follow-up"
    FUDD = "FuDD (paper rule)"
    FUSION = "FuDD + fusion"
    ORACLE = "oracle pick between passes"


FIRST_PASS_LABELS = {
    "single": Method.ONE_TEMPLATE,
    "ensemble80": Method.ENSEMBLE_FIRST_PASS,
    "name": Method.NAME_FIRST_PASS,
}


class MethodAccuracy(BaseModel):
    method: str
    accuracy: float  # on the test split
    note: str = ""
    correct: int = 0
    total: int = 0  # test images
    interval: tuple[float, float] | None = None  # 95% Wilson interval; None without test images
    no_better_than_chance: bool = False  # the interval reaches down to the chance level


def first_pass_label(templates: str | Sequence[str]) -> str:
    """The first pass's row in the accuracy table, named by its templates: 'one template' for
    FuDD's default, '80-template ensemble (first pass)' with ``ensemble80``."""
    if isinstance(templates, str):
        return FIRST_PASS_LABELS.get(templates, f"{templates} (first pass)")
    return f"{len(templates)} custom template{'s' * (len(templates) != 1)} (first pass)"


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


def interval_text(method: MethodAccuracy) -> str:
    """A method's 95% interval as the reports show it: '8.3%-33.0%' ('n/a' without tests)."""
    if method.interval is None:
        return "n/a"
    return f"{percent(method.interval[0])}-{percent(method.interval[1])}"


def changed_text(example: ChangedExample, before: str = "first pass", after: str = "fused") -> str:
    """What an image is and what each method said: 'truth blue tile; first pass blue tile; fused
    red tile' (an image fusion broke), so the answer it changed to is never left out."""
    return f"truth {example.truth}; {before} {example.before}; {after} {example.after}"


def method_rows(
    baselines: dict[str, tuple[np.ndarray, str]],
    predicted: PassPredictions,
    labels: np.ndarray,
    fusion: FusionRule,
    first_pass: str = Method.ONE_TEMPLATE,
) -> list[tuple[str, np.ndarray, str]]:
    """(method, predicted class per image, note), baselines first, in the order of the paper's
    table.

    ``baselines`` maps a method to (predicted class per image, note); ``predicted`` holds the
    passes' answers; ``first_pass`` names the first pass's row (see :func:`first_pass_label`)."""
    oracle = np.where(predicted.first == labels, labels, predicted.fudd)
    rows = [(Method.CLASS_NAME, *baselines[Method.CLASS_NAME])]
    rows.append((first_pass, predicted.first, "first pass"))
    rows += [(name, *value) for name, value in baselines.items() if name != Method.CLASS_NAME]
    if predicted.before_follow_up is not None:
        rows.append((Method.BEFORE_FOLLOW_UP, predicted.before_follow_up, "second pass only"))
    rows += [
        (Method.FUDD, predicted.fudd, "second pass only"),
        (
            Method.FUSION,
            predicted.fused,
            f"weight {fusion.weight:.2f} on the second pass, chosen on validation",
        ),
        (Method.ORACLE, oracle, "upper bound of any per-image choice"),
    ]
    return rows


def method_accuracies(
    rows: list[tuple[str, np.ndarray, str]],
    labels: np.ndarray,
    test: np.ndarray,
    level: ChanceLevel | None,
) -> list[MethodAccuracy]:
    """Each row's accuracy on the test split with its 95% interval, flagged when the interval
    does not clear ``level``'s floor (the better of chance and the majority class)."""
    methods = []
    for method, prediction, note in rows:
        correct = int((prediction[test] == labels[test]).sum())
        interval = wilson_interval(correct, len(test)) if len(test) else None
        methods.append(
            MethodAccuracy(
                method=method,
                accuracy=correct / len(test) if len(test) else float("nan"),
                note=note,
                correct=correct,
                total=len(test),
                interval=interval,
                no_better_than_chance=(
                    interval is not None and level is not None and interval[0] <= level.floor
                ),
            )
        )
    return methods


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


def follow_up_pairs(
    labels: np.ndarray,
    predicted: np.ndarray,
    validation: np.ndarray,
    class_names: Sequence[str],
    top: int,
) -> list[ConfusedPair]:
    """The pairs to ask the LLM about again: those most confused on the validation images
    only, so nothing about the test images reaches the descriptions the test scores."""
    return confused_pairs(labels[validation], predicted[validation], class_names, top=top)


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


def split_text(result: BaseModel) -> str:
    """'Test split: 21 images; fusion chosen on 9; chance 20.0 % (5 classes); ...'."""
    text = f"Test split: {result.test_images} images; fusion chosen on {result.validation_images}"
    return text + (f"; {result.chance.text()}." if result.chance else ".")


def to_markdown(title: str, result: BaseModel) -> str:
    """Warnings, how it was made, the accuracy table, confused pairs and changed examples as
    Markdown."""
    lines = [f"# {title}", ""]
    lines += [f"> **Warning:** {warning}\n" for warning in result.warnings]
    lines += ["Made with:", "", *[f"- {line}" for line in result.provenance.lines()], ""]
    lines += markdown_table(
        ["method", "accuracy", "95% interval", "note"],
        [(m.method, percent(m.accuracy), interval_text(m), m.note) for m in result.methods],
    )
    lines += ["", split_text(result), ""]
    lines += ["## Most-confused pairs (first pass)", ""]
    lines += [f"- {p.class_a} / {p.class_b}: {p.count}" for p in result.confused] or ["- none"]
    for label, examples in (("Fixed by", result.fixed), ("Broken by", result.broken)):
        lines += ["", f"## {label} {result.changed_by} (vs. the first pass)", ""]
        lines += [f"- {e.path}: {e.truth} (was {e.before}, now {e.after})" for e in examples] or [
            "- none"
        ]
    return "\n".join(lines) + "\n"


def to_html(title: str, result: BaseModel) -> str:
    """Self-contained HTML: warnings, how it was made, the accuracy table, confused pairs and
    thumbnails of the changed examples."""
    rows = "".join(
        f"<tr><td>{html.escape(m.method)}</td><td>{percent(m.accuracy)}</td>"
        f"<td>{interval_text(m)}</td><td>{html.escape(m.note)}</td></tr>"
        for m in result.methods
    )
    made_with = "".join(f"<li>{html.escape(line)}</li>" for line in result.provenance.lines())
    confused = "".join(
        f"<li>{html.escape(p.class_a)} / {html.escape(p.class_b)}: {p.count}</li>"
        for p in result.confused
    )
    parts = [
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
        ".ex{display:inline-block;margin:4px;text-align:center;font-size:12px}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *(f"<p><b>Warning:</b> {html.escape(warning)}</p>" for warning in result.warnings),
        f"<p>Made with:</p><ul>{made_with}</ul>",
        "<table><tr><th>method</th><th>accuracy</th><th>95% interval</th><th>note</th></tr>"
        f"{rows}</table>",
        f"<p>{html.escape(split_text(result))}</p>",
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
