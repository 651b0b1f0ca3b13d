"""Prefect flows that compose components and agents, and the ``clipflows`` command line.

Importing this package starts no Prefect server and loads no model.
"""
