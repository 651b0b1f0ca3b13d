"""The set-difference command (VisDiff)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from clipflows.components.errors import ClipflowsError
from clipflows.components.set_difference import defaults
from clipflows.flows.cli.common import (
    ClipOption,
    ConfigOption,
    RunnerOption,
    WorkersOption,
    console,
    print_evidence,
    with_runner,
)
from clipflows.flows.cli.common import load_cli_settings as _settings
from clipflows.flows.cli.session import flow_session

if TYPE_CHECKING:
    from clipflows.components.set_difference.ranking import Hypothesis


CORRECTIONS = ("holm", "bh", "bonferroni", "none")  # RankerConfig.correction's choices


def diff(
    set_a: Annotated[str, typer.Argument(help="Folder of images, or a group name with --csv.")],
    set_b: Annotated[str, typer.Argument(help="Folder of images, or a group name with --csv.")],
    csv: Annotated[
        Path | None, typer.Option(help="VisDiffBench-style CSV: group_name,path[,...]")
    ] = None,
    root: Annotated[
        Path | None,
        typer.Option(
            help="With --csv: the folder its relative image paths start from (VisDiff's own "
            "CSVs: the VisDiff repository). Default: the CSV's folder, else the nearest "
            "folder above it where the paths exist."
        ),
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Report folder.")] = Path(
        "set-difference-report"
    ),
    truth: Annotated[str | None, typer.Option(help="Ground truth: judge the top 5.")] = None,
    captioner: Annotated[
        defaults.Captioner, typer.Option(help="Who captions the sampled images.")
    ] = defaults.CAPTIONER,
    rounds: Annotated[
        int, typer.Option(min=1, help="Proposal rounds, each on other sampled captions.")
    ] = defaults.PROPOSAL_ROUNDS,
    refine_rounds: Annotated[
        int, typer.Option(help="Rounds in which the LLM refines ranked hypotheses.")
    ] = 0,
    sample_size: Annotated[
        int, typer.Option(min=1, help="Captions per set shown to the LLM each round.")
    ] = defaults.SAMPLE_SIZE,
    alpha: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Significance level for a difference (after --correction)."
        ),
    ] = defaults.ALPHA,
    correction: Annotated[
        str,
        typer.Option(
            help="Multiple-test correction of the p-values before comparing them with --alpha: "
            "holm (family-wise error, any dependence), bh (Benjamini-Hochberg false discovery "
            "rate: more findings), bonferroni, or none (with hundreds of candidates, many pass "
            "by chance).",
        ),
    ] = defaults.CORRECTION,
    vocabulary_candidates: Annotated[
        bool,
        typer.Option(
            help="Also rank every phrase of the captioning vocabulary, in both directions, "
            "as the web app does (useful when the LLM is weak or copies its examples)."
        ),
    ] = defaults.VOCABULARY_CANDIDATES,
    hypotheses: Annotated[
        Path | None,
        typer.Option(
            help="Text file of your own candidate differences, one phrase a line; each is "
            "ranked in both directions beside the others."
        ),
    ] = None,
    llm: Annotated[
        bool,
        typer.Option(
            "--llm/--no-llm",
            help="Ask the LLM to propose differences; --no-llm ranks only the vocabulary "
            "candidates and --hypotheses (--truth still asks the LLM judge).",
        ),
    ] = True,
    top: Annotated[int, typer.Option(help="Rows to print.")] = 10,
    config: ConfigOption = None,
    clip: ClipOption = None,
    runner: RunnerOption = "thread",
    workers: WorkersOption = None,
) -> None:
    """Describe how image set A differs from set B (VisDiff): caption, propose, rank, judge."""
    from clipflows.components.reports import check_report_folder

    check_report_folder(output)  # before any model or server starts
    if correction not in CORRECTIONS:
        raise ClipflowsError(
            f"--correction {correction!r}: choose one of {', '.join(CORRECTIONS)}."
        )
    extra = read_hypotheses(hypotheses) if hypotheses is not None else []
    if not llm and not (vocabulary_candidates or extra):
        raise ClipflowsError(
            "--no-llm leaves nothing to rank: keep --vocabulary-candidates or give "
            "--hypotheses FILE (or drop --no-llm)."
        )
    if not llm and refine_rounds:
        raise ClipflowsError(
            "--refine-rounds asks the LLM to refine its proposals: drop it or --no-llm."
        )
    if root is not None and csv is None:
        raise ClipflowsError("--root only applies to a --csv file's image paths; add --csv.")
    if csv is not None:
        from clipflows.components.set_difference.visdiffbench import (
            find_image_root,
            load_image_groups,
        )

        root = find_image_root(csv, root)
        console.print(f"Image paths of {csv} start from {root}", highlight=False)
        groups = load_image_groups(csv, root)
        missing = [g for g in (set_a, set_b) if g not in groups]
        if missing:
            raise ClipflowsError(
                f"{csv} has no group {missing[0]!r}; groups: {sorted(groups)[:10]}"
            )
    else:
        for label, folder in (("A", set_a), ("B", set_b)):
            check_image_folder(folder, label)
    settings = _settings(config, clip, require_clip=True)
    inputs = (set_a, set_b)
    if csv is not None:  # the flow gets each group as a file of paths, whatever its size
        from clipflows.components.image_lists import write_image_list

        lists = settings.cache_dir / "image-lists"
        inputs = (
            str(write_image_list(groups[set_a], lists)),
            str(write_image_list(groups[set_b], lists)),
        )
    if llm or truth or captioner == defaults.Captioner.VLM:
        from clipflows.agents.health import require_llm_server

        require_llm_server(settings.llm)
    from clipflows.agents.proposer import ProposerConfig
    from clipflows.agents.refiner import RefinerConfig
    from clipflows.components.set_difference.ranking import RankerConfig
    from clipflows.flows.set_difference import set_difference

    with flow_session():
        result = with_runner(set_difference, runner, workers)(
            *inputs,
            settings=settings,
            names=_set_names(set_a, set_b),
            captioner=captioner,
            proposer=ProposerConfig(rounds=rounds, sample_size=sample_size),
            ranker=RankerConfig(alpha=alpha, correction=correction),
            extra_hypotheses=extra,
            vocabulary_candidates=vocabulary_candidates,
            llm_proposals=llm,
            refiner=RefinerConfig(rounds=refine_rounds) if refine_rounds else None,
            truth=truth,
            output=str(output),
        )
    console.print(ranking_table(result.ranking[:top]))
    print_evidence(result.warnings, result.provenance)
    skipped = result.set_a.skipped + result.set_b.skipped
    if skipped:
        console.print(f"[yellow]{len(skipped)} unreadable images skipped[/] (see result.json)")
    if result.evaluation and result.evaluation.judge_warning:
        console.print(f"[yellow]Judge: {result.evaluation.judge_warning}[/]")
    elif result.evaluation:
        console.print(
            f"Judge: Acc@1 {result.evaluation.acc_at_1}, Acc@5 {result.evaluation.acc_at_5}"
        )
    console.print(f"Report: {result.report.get('report.html')}")


def check_image_folder(folder: str, label: str) -> None:
    """Stop before any model or server starts when a set's folder is missing or has no images."""
    from clipflows.components.errors import EmptyInputError
    from clipflows.components.images import list_images

    if not list_images(folder):
        raise EmptyInputError(
            f"Set {label} ({folder}) has no images; expected .jpg, .png or similar files."
        )


def read_hypotheses(path: Path) -> list[Hypothesis]:
    """Candidate phrases from a text file, one a line (blank lines skipped, repeats dropped),
    each as a hypothesis in both directions; a missing, unreadable or empty file is an error."""
    from clipflows.components.set_difference import ranking

    if not path.is_file():
        problem = "is a folder" if path.is_dir() else "does not exist"
        raise ClipflowsError(
            f"--hypotheses {path} {problem}; give a text file with one candidate difference a line."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ClipflowsError(f"--hypotheses {path} cannot be read as UTF-8 text: {error}") from None
    phrases = dict.fromkeys(line.strip() for line in text.splitlines() if line.strip())
    if not phrases:
        raise ClipflowsError(
            f"--hypotheses {path} has no phrases; write one candidate difference a line."
        )
    return [ranking.Hypothesis(text=p, direction=d) for p in phrases for d in ("A", "B")]


def _set_names(set_a: str, set_b: str) -> tuple[str, str]:
    """Report names for the sets: folder names, or the paths as given when those are equal
    (``a/images`` and ``b/images``)."""
    names = (Path(set_a).name or set_a, Path(set_b).name or set_b)
    return names if names[0] != names[1] else (set_a, set_b)


def ranking_table(scores: list) -> Table:
    """Ranked hypotheses; the ones not significant after correction are dimmed."""
    from clipflows.components.set_difference.ranking import p_text

    table = Table("rank", "hypothesis", "more true of", "AUROC (95% CI)", "p-value", "adjusted p")
    for rank, score in enumerate(scores, start=1):
        style = "" if score.significant else "[dim]"
        table.add_row(
            str(rank),
            f"{style}{score.text}",
            score.direction,
            f"{score.auroc:.3f} ({score.auroc_low:.2f}-{score.auroc_high:.2f})",
            p_text(score.p_value),
            p_text(score.p_adjusted),
        )
    return table


COMMANDS = {"diff": diff}
