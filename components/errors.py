"""Errors that carry what went wrong, with which input, and what to do about it."""

from __future__ import annotations


class ClipflowsError(Exception):
    """Base class for errors a user can act on; the CLI prints these without a traceback."""


class MissingWeightsError(ClipflowsError):
    """Model weights are not on this machine and cannot be downloaded."""


class SettingsError(ClipflowsError):
    """A setting from the environment, a settings file or an argument is invalid."""


class SpecError(ClipflowsError):
    """A model spec string could not be understood."""


class EmptyInputError(ClipflowsError):
    """An input set has no usable items."""


class DamagedFileError(ClipflowsError):
    """A file clipflows wrote (a cache database, cached weights) is damaged past skipping."""


class ReportFolderError(ClipflowsError):
    """A report folder (``-o``) cannot be written: it is a file, lies under one, or is read-only."""


class InputNotFoundError(ClipflowsError, FileNotFoundError):
    """A file or folder given as input does not exist (or is not the kind of thing expected)."""


class InputFormatError(ClipflowsError, ValueError):
    """An input file exists but does not have the form expected (a missing column, a bad row)."""
