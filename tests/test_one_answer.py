"""One question, one answer, whatever the door (issue 24.3): the flow, the CLI, the web page and
the assistant's step take set difference's defaults from one place and rank alike."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli_errors import RUN_CLI, _run

from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, write_pair


def ranked(ranking) -> list[tuple[str, str, float]]:
    return [(s.text, s.direction, round(s.auroc, 6)) for s in ranking]


def ranked_in(result_json: Path) -> list[tuple[str, str, float]]:
    rows = json.loads(result_json.read_text())["ranking"]
    return [(r["text"], r["direction"], round(r["auroc"], 6)) for r in rows]


def test_flow_cli_page_and_assistant_give_the_same_ranking(
    world_cache_dir, tmp_path, monkeypatch, prefect_harness
):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from clipflows.agents.planner import Plan, SetDifferenceCall
    from clipflows.components.settings import load_settings
    from clipflows.flows.assistant import Guardrails, ask
    from clipflows.flows.set_difference import set_difference

    monkeypatch.setenv("CLIPFLOWS_CACHE_DIR", str(world_cache_dir))
    set_a, set_b = write_pair(WORLD_SET_PAIRS[0], tmp_path / "sets", count=16)
    settings = load_settings()  # the world CLIP (named by the tests), the tests' small LLM

    by_flow = ranked(set_difference(str(set_a), str(set_b), settings=settings).ranking)
    assert len(by_flow) > 20, "LLM proposals and the vocabulary's phrases, by default"

    cli = _run(RUN_CLI, "diff", str(set_a), str(set_b), "-o", str(tmp_path / "cli"))
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert ranked_in(tmp_path / "cli" / "result.json") == by_flow

    step = SetDifferenceCall(tool="set_difference", set_a=str(set_a), set_b=str(set_b))
    answer = ask("compare", settings, Guardrails(allowed_dirs=[tmp_path]), Plan(steps=[step]))
    (outcome,) = answer.outcomes
    assert outcome.status == "done", outcome.summary
    assert ranked_in(Path(outcome.report).with_name("result.json")) == by_flow
    best = by_flow[0]
    assert outcome.summary.startswith(f"Top difference: '{best[0]}' (more true of {best[1]}")

    st.cache_resource.clear()
    views = Path(__file__).resolve().parents[1] / "ui" / "views"
    app = AppTest.from_file(str(views / "set_difference.py"), default_timeout=600).run()
    app.text_input[0].set_value(str(set_a))
    app.text_input[1].set_value(str(set_b))
    app.button[0].click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert ranked(app.session_state["set_difference"].ranking) == by_flow
    st.cache_resource.clear()
