"""Libraries' own notices (transformers' LOAD REPORT and "Loading weights" bars, xFormers'
extension warning) stay off the terminal while a command runs, unless --verbose, and the
libraries' settings are as they were afterwards (issue 24.4)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

from huggingface_hub.utils import are_progress_bars_disabled
from transformers.utils import logging as transformers_logging

from clipflows.flows.cli.session import CliState, quiet_libraries


def _library_state() -> tuple:
    return (
        transformers_logging.get_verbosity(),
        transformers_logging.is_progress_bar_enabled(),
        are_progress_bars_disabled(),
        logging.getLogger("xformers").isEnabledFor(logging.WARNING),
    )


def test_quiet_libraries_silences_warnings_and_bars_for_the_block_only():
    before = _library_state()
    assert before == (logging.WARNING, True, False, True)  # the libraries' defaults
    with quiet_libraries(CliState(log_file=None)):
        # Errors still show; downloads (the hub's bars) keep their progress.
        assert _library_state() == (logging.ERROR, False, False, False)
    assert _library_state() == before


def test_verbose_leaves_the_libraries_as_they_are():
    before = _library_state()
    with quiet_libraries(CliState(verbose=True, log_file=None)):
        assert _library_state() == before


# The sentence encoder (a transformers model) loaded inside a command's flow session.
LOAD_IN_SESSION = textwrap.dedent(
    """
    from clipflows.components.sentence import SentenceEncoder
    from clipflows.flows.cli.session import flow_session

    with flow_session():
        print(SentenceEncoder().encode_texts(["a dog barking"]).shape)
    """
)


def test_a_model_loaded_in_a_flow_session_prints_no_loading_bar():
    result = subprocess.run(
        [sys.executable, "-c", LOAD_IN_SESSION],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PREFECT_API_URL": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "(1, 384)"
    assert "Loading weights" not in result.stderr, result.stderr[-3000:]


def test_music_generate_prints_its_result_without_the_xformers_warning(tmp_path):
    out = tmp_path / "clip.wav"
    result = subprocess.run(
        [sys.executable, "-m", "clipflows.flows.cli", "music-generate", "calm piano"]
        + ["--model", "debug", "--seconds", "1", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "1000"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.is_file() and "XFORMERS" not in result.stderr, result.stderr[-3000:]
    assert result.stdout.strip().endswith(f"from debug: {out}")
