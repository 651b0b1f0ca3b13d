"""Errors that carry what went wrong, with which input, and what to do about it."""

from __future__ import annotations


class ClipflowsError(Exception):
    """Base class for errors a user can act on; the CLI prints these without a traceback."""


class MissingWeightsError(ClipflowsError):
    """Model weights are not on this machine and cannot be downloaded."""


class SpecError(ClipflowsError):
    """A model spec string could not be understood."""


class EmptyInputError(ClipflowsError):
    """An input set has no usable items."""
