"""The clipflows web app: one page per workflow, plus home and runs. Start: ``clipflows ui``."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from clipflows.flows.runtime.temporary_server import tie_temporary_server

PAGES = (
    Path(__file__).parent / "views"
)  # not "pages/": that name switches on Streamlit's automatic navigation


def main() -> None:
    st.set_page_config(page_title="clipflows", layout="wide")
    tie_temporary_server()  # the app's temporary Prefect server stops when the app is killed
    navigation = st.navigation(
        [
            st.Page(PAGES / "home.py", title="Home", default=True),
            st.Page(PAGES / "set_difference.py", title="Set difference", url_path="set_difference"),
            st.Page(PAGES / "classification.py", title="Classification", url_path="classification"),
            st.Page(PAGES / "separation.py", title="Sound separation", url_path="separation"),
            st.Page(PAGES / "music.py", title="Music for video", url_path="music"),
            st.Page(PAGES / "assistant.py", title="Assistant", url_path="assistant"),
            st.Page(PAGES / "runs.py", title="Runs", url_path="runs"),
        ]
    )
    navigation.run()


main()  # this file is the Streamlit script itself; import the views' modules, not this one
