"""Publishing a run's report: one function for every flow that writes one."""

from __future__ import annotations

import json

from prefect import flow
from pydantic import BaseModel, Field

from clipflows.flows.runtime.publish import Report, publish_report
from clipflows.flows.runtime.runs import recorded_runs


class _Result(BaseModel):
    answer: int
    report: dict[str, str] = Field(default_factory=dict)


def _report() -> Report:
    return Report(
        workflow="classify",
        title="Pets",
        run_title="pets (2 classes)",
        table_name="accuracy",
        table=[{"method": "FuDD", "accuracy": 0.5}],
        markdown="# Pets\n",
        extra_files={"descriptions.json": "{}"},
    )


def test_a_report_with_a_folder_is_written_as_one_set_and_recorded(tmp_path, prefect_harness):
    built = []

    @flow
    def run() -> _Result:
        result = _Result(answer=42)
        html = lambda: built.append(1) or "<html></html>"  # noqa: E731
        publish_report(result, _report(), html, tmp_path / "out", tmp_path / "cache")
        return result

    result = run()
    names = ["result.json", "report.md", "report.html", "descriptions.json"]
    assert list(result.report) == names
    assert all((tmp_path / "out" / name).is_file() for name in names)
    written = json.loads((tmp_path / "out" / "result.json").read_text())
    assert written["answer"] == 42 and list(written["report"]) == names  # names its own files
    assert built == [1]
    [recorded] = recorded_runs(tmp_path / "cache")
    assert (recorded.flow, recorded.title) == ("classify", "pets (2 classes)")


def test_without_a_folder_nothing_is_written_or_recorded(tmp_path, prefect_harness):
    @flow
    def run() -> _Result:
        result = _Result(answer=1)
        publish_report(result, _report(), lambda: 1 / 0, None, tmp_path / "cache")  # no html
        return result

    assert run().report == {}
    assert recorded_runs(tmp_path / "cache") == []
