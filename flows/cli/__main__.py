"""``python -m clipflows.flows.cli``."""

from clipflows.flows.cli import main

main()
