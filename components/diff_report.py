"""Set-difference reports: a ranked table and, for the top hypotheses, the images that match
them best and worst in each set; as JSON, Markdown and self-contained HTML."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from pydantic import BaseModel

from .atomic_files import write_text_whole
from .images import decode_image, read_bytes

REPORT_FILES = ("result.json", "report.md", "report.html")


def ranked_rows(ranking: list) -> list[dict]:
    """One plain dict per hypothesis, for tables and Prefect table artifacts."""
    return [
        {
            "rank": i + 1,
            "hypothesis": s.text,
            "more true of": s.direction,
            "AUROC": round(s.auroc, 3),
            "95% CI": f"{s.auroc_low:.2f}-{s.auroc_high:.2f}",
            "mean diff": round(s.mean_difference, 4),
            "p-value": f"{s.p_value:.2g}",
            "significant": bool(s.significant),
        }
        for i, s in enumerate(ranking)
    ]


def to_markdown(title: str, ranking: list, evaluation: BaseModel | None = None) -> str:
    """The ranked table (and the judge's verdicts, if any) as Markdown."""
    rows = ranked_rows(ranking)
    lines = [f"# {title}", ""]
    if rows:
        lines += ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        lines += ["| " + " | ".join(str(v) for v in row.values()) + " |" for row in rows]
    else:
        lines.append("No hypotheses were proposed.")
    if evaluation is not None:
        lines += ["", f"Acc@1 {evaluation.acc_at_1:.2f}, Acc@5 {evaluation.acc_at_5:.2f}", ""]
        lines += [f"- {j.text} ({j.direction}): {j.score} — {j.reason}" for j in evaluation.judged]
    return "\n".join(lines) + "\n"


def thumbnail_html(path: str, size: int = 96) -> str:
    try:
        image = decode_image(read_bytes(path))
    except ValueError:
        return ""
    image.thumbnail((size, size))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}" title="{html.escape(Path(path).name)}">'


def to_html(
    title: str,
    ranking: list,
    paths_a: list[str],
    paths_b: list[str],
    evaluation: BaseModel | None = None,
    show_top: int = 3,
) -> str:
    """Self-contained HTML: the table, then image grids for the ``show_top`` hypotheses."""
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
        f"<h1>{html.escape(title)}</h1><table><tr>{head}</tr>{body}</table>",
    ]
    if evaluation is not None:
        parts.append(
            f"<p>Acc@1 {evaluation.acc_at_1:.2f}, Acc@5 {evaluation.acc_at_5:.2f}</p><ul>"
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


def write_report(folder: Path, result: BaseModel, markdown: str, html_text: str) -> None:
    """Write the REPORT_FILES, each under a temporary name then renamed (never half-written)."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = (result.model_dump_json(indent=2), markdown, html_text)
    for name, text in zip(REPORT_FILES, texts, strict=True):
        write_text_whole(text, folder / name)
