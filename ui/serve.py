"""``python -m clipflows.ui.serve PARENT_PID STREAMLIT_ARGS...``: the web app's server process,
started by ``clipflows ui``; it ends with that command even when the command is killed."""

from __future__ import annotations

import sys

from clipflows.flows.runtime.parent_watch import start_parent_watch


def main(argv: list[str]) -> None:
    if not start_parent_watch(int(argv[0])):  # the command died before we got here
        sys.exit(1)
    from streamlit.web.cli import main as streamlit

    streamlit(args=argv[1:], prog_name="streamlit")


if __name__ == "__main__":
    main(sys.argv[1:])
