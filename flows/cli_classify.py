"""Commands for Differential class descriptions (FuDD); they register on the shared app."""

from __future__ import annotations

from .cli_common import app, console  # noqa: F401
