"""Register and serve the clipflows deployments (flows/runtime/deployments.py) against PREFECT_API_URL.

    python deploy/serve.py                          # every deployment, with its example cron
    python deploy/serve.py nightly-set-difference --params '{"nightly-set-difference": {"set_a": "..."}}'
    python deploy/serve.py demo --interval 60       # replace crons by an interval (quick checks)

Runs until SIGTERM; flow runs execute in this process (see deploy/README.md for work pools).
"""

from __future__ import annotations

import argparse
import json

from clipflows.flows.runtime.deployments import DEPLOYMENTS, serve_deployments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", help=f"deployments to serve (default all): {sorted(DEPLOYMENTS)}"
    )
    parser.add_argument("--params", default="{}", help="JSON {deployment: {parameter: value}}")
    parser.add_argument("--interval", type=float, default=None, help="seconds; replaces the crons")
    parser.add_argument("--limit", type=int, default=None, help="concurrent flow runs at most")
    args = parser.parse_args()
    serve_deployments(args.names or None, json.loads(args.params), args.interval, args.limit)


if __name__ == "__main__":
    main()
