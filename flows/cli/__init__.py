"""The ``clipflows`` command line, one module per command group; ``main`` runs it."""

from clipflows.flows.cli.app import main

__all__ = ["main"]
