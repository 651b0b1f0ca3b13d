"""A failing command ends in one ``Error:`` line, before any server or model starts when its
inputs are wrong, with tracebacks left to --verbose and the log file (issue 18.6, 18.8)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

HEAVY = ("torch", "open_clip", "prefect")
# The CLI in a subprocess that says, last, which heavy packages it imported.
RUN_CLI = textwrap.dedent(
    """
    import atexit, sys
    heavy = {heavy!r}
    atexit.register(lambda: print("imported:", sorted(set(heavy) & set(sys.modules)), file=sys.stderr))
    sys.argv = ["clipflows", *sys.argv[1:]]
    from clipflows.flows.cli import main
    main()
    """
).format(heavy=HEAVY)


def _run(code: str, *args: str, env: dict | None = None, timeout: int = 300):
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "1000", **(env or {})},
    )


def _checked_early(
    *args: str, env: dict | None = None, imported: str = "[]"
) -> tuple[str, subprocess.CompletedProcess]:
    """The one Error: line of a command refused before its flow, having asserted that nothing
    else was printed and which heavy packages (torch, open_clip, prefect) were imported."""
    result = _run(RUN_CLI, *args, env=env)
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == f"imported: {imported}", result.stderr[-3000:]
    assert result.returncode == 2 and len(lines) == 2, result.stderr[-3000:]
    assert lines[0].startswith("Error: ") and not result.stdout, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return lines[0], result


def _images(folder: Path, count: int = 3) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.new("RGB", (16, 16), (40 * i, 0, 0)).save(folder / f"{i}.png")
    return folder


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed on exit: nothing listens there


def test_a_missing_image_folder_is_one_error_line_before_any_model_or_server(tmp_path):
    line, _ = _checked_early("diff", str(tmp_path / "nowhere"), str(_images(tmp_path / "b")))
    assert (
        line
        == f"Error: Image folder {tmp_path / 'nowhere'} does not exist; give a folder of images (.jpg, .png or similar)."
    )


def test_a_folder_without_images_is_one_error_line_naming_the_set(tmp_path):
    (tmp_path / "empty").mkdir()
    line, _ = _checked_early("diff", str(_images(tmp_path / "a")), str(tmp_path / "empty"))
    assert line.startswith(f"Error: Set B ({tmp_path / 'empty'}) has no images")


def test_a_csv_without_group_name_is_one_error_line_naming_the_column(tmp_path):
    images = _images(tmp_path / "images")
    csv_path = tmp_path / "sets.csv"
    csv_path.write_text("group,path\n" + "".join(f"a,{p}\n" for p in sorted(images.iterdir())))
    line, _ = _checked_early("diff", "a", "b", "--csv", str(csv_path))
    assert line == (
        f"Error: {csv_path} lacks column(s) ['group_name']; its header is ['group', 'path'], "
        "expected group_name,path[,difference,difficulty]."
    )


def test_a_missing_csv_is_one_error_line(tmp_path):
    line, _ = _checked_early("diff", "a", "b", "--csv", str(tmp_path / "sets.csv"))
    assert line.startswith(f"Error: Image CSV {tmp_path / 'sets.csv'} does not exist")


@pytest.mark.parametrize("dataset", ["missing-folder", "missing.csv", "one-class"])
def test_a_bad_classify_dataset_is_one_error_line_before_any_model_or_server(dataset, tmp_path):
    if dataset == "one-class":
        _images(tmp_path / dataset / "cats")
    line, _ = _checked_early("classify", str(tmp_path / dataset))
    assert str(tmp_path / dataset) in line or "two classes" in line


@pytest.mark.parametrize("command", [["diff", "a", "b"], ["classify", "classes"], ["ask", "hi"]])
def test_an_llm_server_that_is_down_is_one_error_line_before_any_flow(command, tmp_path):
    _images(tmp_path / "a")
    _images(tmp_path / "b")
    _images(tmp_path / "classes" / "cats")
    _images(tmp_path / "classes" / "dogs")
    url = f"http://127.0.0.1:{_dead_port()}/v1"
    env = {"CLIPFLOWS_LLM__BACKEND": "openai-compatible", "CLIPFLOWS_LLM__BASE_URL": url}
    args = [str(tmp_path / a) if (tmp_path / a).exists() else a for a in command]
    line, _ = _checked_early(*args, env=env)
    assert line.startswith(
        f"Error: No OpenAI-compatible LLM server answered at {url} (ConnectError"
    )
    assert line.endswith("or use CLIPFLOWS_LLM__BACKEND=embedded.")


@pytest.mark.parametrize(
    "command, says",
    [
        (["separate", "{tmp}/missing.wav", "dog barking"], "missing.wav"),
        (
            ["train-clip", "{tmp}/no-data", "{tmp}/model"],
            "Training data {tmp}/no-data is not a folder",
        ),
        (["music-describe", "{tmp}/no-tracks"], "Track folder {tmp}/no-tracks is not a folder"),
        (["music-recommend", "{tmp}/no-video.mp4"], "Video {tmp}/no-video.mp4 does not exist"),
    ],
)
def test_other_commands_refuse_a_missing_input_in_one_line_before_prefect(command, says, tmp_path):
    args = [a.format(tmp=tmp_path) for a in command]
    # Reading audio needs torch (components.audio); Prefect is never imported.
    imported = "['torch']" if command[0] == "separate" else "[]"
    line, _ = _checked_early(*args, imported=imported)
    assert says.format(tmp=tmp_path) in line


def test_separate_refuses_a_file_that_is_not_audio_in_one_line_without_decoder_notes(tmp_path):
    notes = tmp_path / "notes.mp3"
    notes.write_text("hello, this is not audio at all\n")  # libmpg123 prints three notes on it
    line, _ = _checked_early("separate", str(notes), "dog barking", imported="['torch']")
    assert line.startswith(f"Error: {notes}: not a readable audio file")


def test_music_search_refuses_a_missing_index_before_the_sentence_model_loads(tmp_path):
    line, _ = _checked_early("music-search", "calm piano", "--index", str(tmp_path / "nope"))
    assert line == (
        f"Error: No described music library: {tmp_path / 'nope'} is not a folder. Give --index "
        "the folder `clipflows music-describe -o FOLDER` wrote, or run `clipflows "
        f"music-describe -o {tmp_path / 'nope'}` first."
    )


def test_music_search_names_the_files_a_partial_index_lacks(tmp_path):
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "tracks.json").write_text("[]")
    line, _ = _checked_early("music-search", "calm piano", "--index", str(tmp_path / "index"))
    assert f"{tmp_path / 'index'} lacks description.faiss, tags.faiss." in line


EMPTY_DESCRIPTION = "Error: The description is empty: say in words what music to make."


@pytest.mark.parametrize(
    "command, says",
    [
        (["music-generate", "", "-o", "{out}"], EMPTY_DESCRIPTION),
        (["music-generate", "  ", "-o", "{out}"], EMPTY_DESCRIPTION),
        (["music-search", " "], "Error: The query is empty: say in words what you want to hear."),
        (
            ["music-search", "piano", "--field", "mood"],
            "Error: --field 'mood' is not one of description, tags.",
        ),
    ],
)
def test_an_empty_or_wrong_music_request_is_one_error_line_before_any_model(
    command, says, tmp_path
):
    out = tmp_path / "out.wav"
    line, _ = _checked_early(*(a.format(out=out) for a in command))
    assert line == says and not out.exists()


def test_models_imports_neither_torch_nor_prefect(tmp_path):
    result = _run(RUN_CLI, "models", env={"CLIPFLOWS_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == "imported: []"
    assert "world CLIP" in result.stdout and "not trained yet" in result.stdout


# A command whose flow fails inside a task, run through the real entry point.
FAILING_FLOW = textwrap.dedent(
    """
    import sys
    from prefect import flow, task
    from clipflows.components.errors import ClipflowsError
    from clipflows.flows.cli.app import main
    from clipflows.flows.cli.session import flow_session

    def deep(kind):
        if kind == "user":
            raise ClipflowsError("the LLM server went away at http://127.0.0.1:9/v1")
        raise KeyError("an unexpected key")

    @task(retries=1)
    def step(kind):
        deep(kind)

    @flow
    def workflow(kind):
        return [step.submit(kind) for _ in range(3)][0].result()

    def fail(kind: str) -> None:
        "A command whose flow fails."
        with flow_session():
            workflow(kind)

    sys.argv = ["clipflows", *sys.argv[1:]]
    main({"fail": fail})
    """
)


@pytest.mark.parametrize("kind", ["user", "unexpected"])
def test_a_failure_inside_a_flow_ends_in_one_error_line_with_its_traceback_in_the_log(
    kind, tmp_path
):
    log_file = tmp_path / "clipflows.log"
    result = _run(FAILING_FLOW, "--log-file", str(log_file), "fail", kind, timeout=600)
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert "Traceback" not in output, output[-3000:]
    assert len(errors) == 1 and result.stderr.strip().splitlines()[-1] == errors[0], output
    if kind == "user":
        assert result.returncode == 2
        assert errors[0] == "Error: the LLM server went away at http://127.0.0.1:9/v1"
    else:
        assert result.returncode == 1
        assert errors[0] == (
            "Error: KeyError: 'an unexpected key' (an unexpected failure; its traceback is in "
            f"{log_file}; `clipflows --verbose ...` prints it)"
        )
    assert "ERROR" not in output  # Prefect's error records of the failed runs: in the log only
    logged = log_file.read_text()
    assert logged.count("Traceback") >= 2 and "in deep" in logged  # the tasks' and the command's


def test_verbose_prints_the_tracebacks_before_the_error_line(tmp_path):
    result = _run(FAILING_FLOW, "--verbose", "--log-file", str(tmp_path / "x.log"), "fail", "user")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and "Traceback" in result.stderr and "in deep" in result.stderr
    assert lines[-1] == "Error: the LLM server went away at http://127.0.0.1:9/v1"


def test_a_temporary_server_that_does_not_start_in_time_is_one_error_line(tmp_path):
    env = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "1", "PREFECT_API_URL": ""}
    result = _run(FAILING_FLOW, "fail", "user", env=env)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert lines[-1].startswith(
        "Error: Prefect's temporary server did not start within 1 s (a busy machine?)."
    ), result.stderr[-3000:]
    assert sum(line.startswith("Error:") for line in lines) == 1


def test_flow_session_gives_prefect_patient_defaults_without_touching_the_environment():
    from prefect.settings import (
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    from clipflows.flows.cli.session import EPHEMERAL_STARTUP_TIMEOUT_S, flow_session

    before = dict(os.environ)
    timeout, analytics = (
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        PREFECT_SERVER_ANALYTICS_ENABLED,
    )
    assert (timeout.value(), analytics.value()) == (20, True)  # Prefect's own defaults
    with flow_session():
        assert (timeout.value(), analytics.value()) == (EPHEMERAL_STARTUP_TIMEOUT_S, False)
        assert EPHEMERAL_STARTUP_TIMEOUT_S >= 120
    assert (timeout.value(), analytics.value()) == (20, True)
    with temporary_settings(updates={timeout: 7}), flow_session():
        assert timeout.value() == 7  # a value the user set (environment, profile) wins
    assert dict(os.environ) == before


def test_an_unknown_captioner_is_refused_with_the_choices_before_anything_loads(tmp_path):
    a, b = _images(tmp_path / "a"), _images(tmp_path / "b")
    result = _run(RUN_CLI, "diff", str(a), str(b), "--captioner", "gpt4")
    assert result.returncode == 2, result.stderr[-3000:]
    assert "'gpt4' is not one of 'clip-vocabulary', 'blip', 'vlm'" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "imported: []"
