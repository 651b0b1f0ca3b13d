"""The Streamlit pages, driven through streamlit's AppTest with world inputs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGES = Path(__file__).resolve().parents[1] / "ui" / "views"


@pytest.fixture
def ui_env(monkeypatch, tmp_path, world_spec, world_cache_dir):
    """The app's settings come from the environment, as on a server; the sample world sets
    name the world CLIP, which the cache dir links to."""
    import streamlit as st

    monkeypatch.setenv("CLIPFLOWS_CACHE_DIR", str(world_cache_dir))
    monkeypatch.setenv("CLIPFLOWS_CLIP", world_spec)
    st.cache_resource.clear()
    yield tmp_path
    st.cache_resource.clear()


def page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=600)


def test_home_shows_the_models(ui_env):
    app = page("home").run()
    assert not app.exception
    text = " ".join(str(t.value) for t in app.markdown) + str(app.table[0].value)
    assert "Set difference" in text and "local-dir:" in text and "embedded" in text


def test_set_difference_on_sample_world_sets(ui_env, prefect_harness):
    app = page("set_difference").run()
    app.radio[0].set_value("Sample world sets").run()
    app.button[0].click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    table = app.dataframe[0].value
    assert table.iloc[0]["hypothesis"] == "red" and table.iloc[0]["more true of"] == "A"
    assert len(app.get("image")) == 16  # best and worst 4 of each set, shown for the top row
    charts = app.get("arrow_vega_lite_chart") or app.get("vega_lite_chart")
    assert len(charts) == 1  # the score histogram of A vs B
    spec = charts[0].proto.spec
    assert 'CLIP similarity to \\"red\\"' in spec and '"title": "images"' in spec.replace(
        '"title":"images"', '"title": "images"'
    )
    assert "#3b3b3b" in spec and "#a8a8a8" in spec  # neutral greys, whatever the sets are called
    bar = app.get("progress")  # the flow's progress, step by step, ends full
    assert len(bar) == 1 and bar[0].proto.value == 100
    runs = page("runs").run()
    assert "set-difference" in " ".join(e.label for e in runs.expander)


class Upload(io.BytesIO):
    """What st.file_uploader hands over: bytes with a name and a size."""

    def __init__(self, name: str, data: bytes):
        super().__init__(data)
        self.name, self.size = name, len(data)


def test_uploads_are_stored_under_safe_names_and_checked(tmp_path):
    from clipflows.components.errors import ClipflowsError
    from clipflows.ui.common import save_uploads

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil.png", b"png bytes")
        archive.writestr("notes.txt", b"skipped")
    uploads = [Upload("../x/cat photo.png", b"png"), Upload("set.zip", buffer.getvalue())]
    folder = save_uploads(uploads, "../set a", ["png"], root=tmp_path)
    assert folder.parent == tmp_path
    assert sorted(p.name for p in folder.iterdir()) == ["0000-cat_photo.png", "0001-evil.png"]
    assert not (tmp_path.parent / "evil.png").exists()
    with pytest.raises(ClipflowsError, match="only png"):
        save_uploads([Upload("run.sh", b"#!")], "b", ["png"], root=tmp_path)
    with pytest.raises(ClipflowsError, match="not a readable zip"):
        save_uploads([Upload("broken.zip", b"PK no")], "c", ["png"], root=tmp_path)
    with pytest.raises(ClipflowsError, match="No png"):
        save_uploads([], "d", ["png"], root=tmp_path)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zips_may_expand_only_so_far_in_total(ui_env, monkeypatch):
    import os

    import streamlit as st

    from clipflows.components.errors import ClipflowsError
    from clipflows.ui.common import save_uploads

    monkeypatch.setenv("CLIPFLOWS_UI__UNZIPPED_MB", "1")
    st.cache_resource.clear()
    # Incompressible members, each well under any per-file limit, 1.5 MB together.
    parts = {f"{i}.png": os.urandom(500_000) for i in range(3)}
    with pytest.raises(ClipflowsError, match="more than 1 MB"):
        save_uploads([Upload("set.zip", _zip(parts))], "a", ["png"], root=ui_env)
    assert not (ui_env / "a").exists()  # nothing half-unpacked is kept
    folder = save_uploads(
        [Upload("set.zip", _zip(dict(list(parts.items())[:2])))], "b", ["png"], root=ui_env
    )
    assert len(list(folder.iterdir())) == 2


def test_a_zip_bomb_member_is_refused_before_it_is_written(ui_env):
    from clipflows.components.errors import ClipflowsError
    from clipflows.ui.common import save_uploads

    bomb = _zip({"bomb.png": bytes(20 * 1024 * 1024)})  # 20 MB of zeros: about 20 KB zipped
    assert len(bomb) < 100_000
    with pytest.raises(ClipflowsError, match="zip bomb"):
        save_uploads([Upload("bomb.zip", bomb)], "a", ["png"], root=ui_env)
    assert not (ui_env / "a").exists()


def test_a_damaged_zip_is_one_clear_message_without_server_paths(ui_env):
    from clipflows.components.errors import ClipflowsError
    from clipflows.ui.common import save_uploads

    data = bytearray(_zip({"a.png": bytes(range(256)) * 400}))
    start = 30 + len("a.png")  # the local header, then the member's compressed bytes
    data[start + 10 : start + 40] = b"\xff" * 30
    with pytest.raises(ClipflowsError, match="damaged") as caught:
        save_uploads([Upload("set.zip", bytes(data))], "a", ["png"], root=ui_env)
    assert str(ui_env) not in str(caught.value) and "site-packages" not in str(caught.value)


def test_a_missing_folder_is_a_message_and_the_status_says_failed(
    ui_env, prefect_harness, tmp_path
):
    app = page("set_difference").run()
    app.radio[0].set_value("Folders on the server").run()
    app.text_input[0].input(str(tmp_path / "nowhere")).run()
    app.text_input[1].input(str(tmp_path / "nowhere")).run()
    app.button[0].click().run()
    assert not app.exception
    assert app.error and "nowhere" in app.error[0].value
    assert "does not exist" in app.error[0].value and "FileNotFoundError" not in app.error[0].value
    status = app.status[0]
    assert status.state == "error" and "failed" in status.label and "Running" not in status.label


def test_classification_page_with_oracle_descriptions(ui_env, prefect_harness):
    app = page("classification").run()
    app.selectbox[0].set_value("world").run()
    app.slider[0].set_value(4).run()
    app.button[0].click().run()
    assert not app.exception, app.exception
    methods = app.dataframe[0].value.set_index("method")["accuracy"]
    assert methods["FuDD (paper rule)"] > 90 and methods["one template"] < 60  # percent, as the CLI
    assert "%" in app.dataframe[0].proto.columns  # shown as "94.4%"
    assert any("confusions" in e.label for e in app.expander)
    captions = [caption for image in app.get("image") for caption in image.captions]
    assert captions and all(
        c.startswith("truth ") and "; first pass " in c and "; fused " in c for c in captions
    )


@pytest.mark.slow
def test_separation_page_on_the_sample(ui_env, prefect_harness, monkeypatch):
    from clipflows.components.settings import default_cache_dir

    # The separator is trained once into the user cache; reuse it rather than retrain.
    monkeypatch.setenv("CLIPFLOWS_CACHE_DIR", str(default_cache_dir()))
    app = page("separation").run()
    app.button[0].click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert len(app.get("audio")) == 3 and len(app.get("image")) == 1
    assert app.status[0].state == "complete" and app.get("progress")[0].proto.value == 100
    runs = page("runs").run()  # recorded by the flow, like every workflow's run
    assert runs.expander[0].label.startswith("separation:")


@pytest.mark.slow
def test_assistant_page_answers_with_checked_steps(ui_env, prefect_harness, tmp_path):
    app = page("assistant").run()
    app.text_area[0].input(str(tmp_path)).run()
    app.chat_input[0].set_value(
        f"How do the images in {tmp_path}/a differ from {tmp_path}/b?"
    ).run()
    assert not app.exception, app.exception
    messages = app.get("chat_message")
    assert len(messages) == 2  # the request and the answer
    answer = " ".join(str(m.markdown[0].value) for m in app.chat_message[1:])
    assert any(s in answer for s in ("done", "refused", "declined", "failed", "confirmation"))


@pytest.mark.slow
def test_music_page_recommends_for_a_sample_video(ui_env, prefect_harness, monkeypatch):
    from clipflows.components.settings import default_cache_dir

    # Tags, LLM answers and paired videos are cached in the user cache; train from those.
    monkeypatch.setenv("CLIPFLOWS_CACHE_DIR", str(default_cache_dir()))
    app = page("music").run()
    if app.button and app.button[0].label.startswith("Describe"):
        app.button[0].click().run()  # the first time on this machine: train
        app = page("music").run()
    assert not app.exception, app.exception
    app.text_input[0].input("calm acoustic guitar")
    app.slider[0].set_value(3)
    app.checkbox[0].check().run()  # enables the model choice
    app.selectbox[1].select("debug")
    app.button[0].click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert len(app.get("audio")) == 4  # three tracks and the generated clip
    text = " ".join(str(m.value) for m in app.markdown)
    assert text.count("tags:") == 3
    assert any("held-out" in e.label for e in app.expander)
    assert len(app.get("download_button")) == 1


def test_the_score_histogram_has_titled_axes_short_labels_and_neutral_colours():
    import numpy as np

    from clipflows.ui.charts import SET_COLOURS, score_histogram

    rng = np.random.default_rng(0)
    scores = {"A (red shapes)": 0.2 + 0.1 * rng.random(30), "B (blue)": 0.25 + 0.1 * rng.random(30)}
    chart = score_histogram(scores, "red").to_dict()
    x, y, colour = (chart["encoding"][k] for k in ("x", "y", "color"))
    assert x["title"].startswith('CLIP similarity to "red"') and y["title"] == "images"
    labels = x["sort"]
    assert len(set(labels)) == 20 and all(len(label) <= 6 for label in labels)  # "0.215"
    assert labels == sorted(labels, key=float)
    assert colour["scale"]["range"] == list(SET_COLOURS)  # greys: no colour a set name contradicts
