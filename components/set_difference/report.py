"""Set-difference reports: a ranked table and, for the top hypotheses, the images that match
them best and worst in each set; as JSON, Markdown and self-contained HTML."""

from __future__ import annotations

import html

from pydantic import BaseModel

from clipflows.components.provenance import Provenance
from clipflows.components.reports import markdown_table, thumbnail_html
from clipflows.components.set_difference.ranking import p_text


def ranked_rows(ranking: list) -> list[dict]:
    """One plain dict per hypothesis, for tables and Prefect table artifacts; "significant"
    compares the adjusted p-value with alpha, and a nan p-value reads "not testable"."""
    return [
        {
            "rank": i + 1,
            "hypothesis": s.text,
            "more true of": s.direction,
            "AUROC": round(s.auroc, 3),
            "95% CI": f"{s.auroc_low:.2f}-{s.auroc_high:.2f}",
            "mean diff": round(s.mean_difference, 4),
            "p-value": p_text(s.p_value),
            "adjusted p": p_text(s.p_adjusted),
            "significant": bool(s.significant),
        }
        for i, s in enumerate(ranking)
    ]


def accuracy_line(evaluation: BaseModel) -> str:
    """'Acc@1 1.00, Acc@5 1.00', or the judge's warning when its accuracy is withheld."""
    if evaluation.acc_at_1 is None:
        return f"No accuracy: {evaluation.judge_warning}"
    return f"Acc@1 {evaluation.acc_at_1:.2f}, Acc@5 {evaluation.acc_at_5:.2f}"


def to_markdown(
    title: str,
    ranking: list,
    evaluation: BaseModel | None = None,
    warnings: list[str] | None = None,
    provenance: Provenance | None = None,
) -> str:
    """What the result cannot be trusted for, how it was made, the ranked table and the judge's
    verdicts, as Markdown."""
    rows = ranked_rows(ranking)
    lines = [f"# {title}", ""]
    lines += [f"> **Warning:** {warning}\n" for warning in warnings or []]
    if provenance is not None:
        lines += ["Made with:", "", *[f"- {line}" for line in provenance.lines()], ""]
    if rows:
        lines += markdown_table(list(rows[0]), [list(row.values()) for row in rows])
    else:
        lines.append("No hypotheses were proposed.")
    if evaluation is not None:
        lines += ["", accuracy_line(evaluation), ""]
        lines += [f"- {j.text} ({j.direction}): {j.score} — {j.reason}" for j in evaluation.judged]
    return "\n".join(lines) + "\n"


def to_html(
    title: str,
    ranking: list,
    paths_a: list[str],
    paths_b: list[str],
    evaluation: BaseModel | None = None,
    show_top: int = 3,
    warnings: list[str] | None = None,
    provenance: Provenance | None = None,
) -> str:
    """Self-contained HTML: warnings, how it was made, the table, then image grids for the
    ``show_top`` hypotheses."""
    rows = ranked_rows(ranking)
    head = "".join(f"<th>{html.escape(k)}</th>" for k in (rows[0] if rows else {}))
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row.values()) + "</tr>"
        for row in rows
    )
    parts = [
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
        "img{margin:2px}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *(f"<p><b>Warning:</b> {html.escape(warning)}</p>" for warning in warnings or []),
        (
            "<p>Made with:</p><ul>"
            + "".join(f"<li>{html.escape(line)}</li>" for line in provenance.lines())
            + "</ul>"
            if provenance is not None
            else ""
        ),
        f"<table><tr>{head}</tr>{body}</table>",
    ]
    if evaluation is not None:
        parts.append(
            f"<p>{html.escape(accuracy_line(evaluation))}</p><ul>"
            + "".join(
                f"<li>{html.escape(j.text)} ({j.direction}): {j.score} — {html.escape(j.reason)}</li>"
                for j in evaluation.judged
            )
            + "</ul>"
        )
    for score in ranking[:show_top]:
        parts.append(f"<h2>{html.escape(score.text)} (more true of {score.direction})</h2>")
        for label, paths, top, bottom in (
            ("A", paths_a, score.top_a, score.bottom_a),
            ("B", paths_b, score.top_b, score.bottom_b),
        ):
            best = "".join(thumbnail_html(paths[i]) for i in top)
            worst = "".join(thumbnail_html(paths[i]) for i in bottom)
            parts.append(f"<p>Set {label}, best match: {best}<br>worst match: {worst}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
