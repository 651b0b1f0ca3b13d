"""Time to first output of the command line: ``--help``, a bad path, and ``models``, for this
working tree and (``--compare REV``) an earlier commit, side by side in one run.

Each tree runs as ``python -c`` with its own ``components``, ``agents``, ``flows`` and ``ui``
folders as the ``clipflows`` packages (the editable install's finder set aside), so both sides
share the interpreter, the installed libraries and the machine's state. Runs alternate between
the trees, so a busy spell slows both. Goals (issue 18.8): under 2 s for a bad path, under 5 s
for ``models``.

Run: ``python tests/bench/bench_cli_startup.py --compare 998fe85 --repeats 3``.
"""

from __future__ import annotations

import argparse
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("components", "agents", "flows", "ui")
CASES = {
    "--help": ["--help"],
    "bad path": ["diff", "/nonexistent/set-a", "/nonexistent/set-b"],
    "models": ["models"],
}
GOALS = {"bad path": 2.0, "models": 5.0}
# Run the CLI from the packages under sys.argv[1]: the editable install's finder is set aside.
BOOT = (
    "import sys\n"
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
    "sys.path_hooks[:] = [h for h in sys.path_hooks if 'editable' not in repr(h).lower()]\n"
    "sys.path_importer_cache.clear()\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "sys.argv = ['clipflows', *sys.argv[2:]]\n"
    "from clipflows.flows.cli import main\n"
    "main()\n"
)


def shim(tree: Path, into: Path) -> Path:
    """A folder whose ``clipflows`` namespace package is ``tree``'s four folders."""
    package = into / "clipflows"
    package.mkdir(parents=True)
    for name in PACKAGES:
        (package / name).symlink_to(tree / name, target_is_directory=True)
    return into


def first_output(path: Path, args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Seconds to the first byte on stdout or stderr, seconds to exit, and the exit status."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", BOOT, str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    first = None
    with selectors.DefaultSelector() as selector:
        for stream in (process.stdout, process.stderr):
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select():
                if not os.read(key.fileobj.fileno(), 65536):  # end of stream
                    selector.unregister(key.fileobj)
                elif first is None:
                    first = time.perf_counter() - started
    status = process.wait()
    total = time.perf_counter() - started
    return (first if first is not None else total), total, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", metavar="REV", help="Also time this commit (git worktree).")
    parser.add_argument("--repeats", type=int, default=3, help="Runs per case and tree.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        trees = {"this tree": shim(REPO, scratch / "now")}
        if args.compare:
            old = scratch / "old-tree"
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "add", "--detach", str(old), args.compare],
                check=True,
                capture_output=True,
            )
            trees = {args.compare: shim(old, scratch / "old"), **trees}
        env = {
            **os.environ,
            "CLIPFLOWS_CACHE_DIR": str(scratch / "cache"),
            "CLIPFLOWS_LOG_FILE": str(scratch / "clipflows.log"),
            "COLUMNS": "120",
        }
        try:
            times: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
            for _ in range(args.repeats):
                for case, case_args in CASES.items():
                    for tree, path in trees.items():
                        run = first_output(path, case_args, env)
                        times.setdefault((case, tree), []).append(run)
        finally:
            if args.compare:
                subprocess.run(
                    ["git", "-C", str(REPO), "worktree", "remove", "--force", str(old)],
                    capture_output=True,
                )
    print(f"{args.repeats} runs each, median seconds (min-max); exit status of the last run")
    print(f"{'case':<10} {'tree':<12} {'first output':>20} {'exit':>20} {'status':>7}  goal")
    for (case, tree), runs in times.items():
        firsts, totals = [r[0] for r in runs], [r[1] for r in runs]
        goal = GOALS.get(case)
        met = "" if goal is None else f"< {goal:.0f} s: {'yes' if max(firsts) < goal else 'no'}"
        print(
            f"{case:<10} {tree:<12} "
            f"{statistics.median(firsts):>6.2f} ({min(firsts):.2f}-{max(firsts):.2f}) "
            f"{statistics.median(totals):>8.2f} ({min(totals):.2f}-{max(totals):.2f}) "
            f"{runs[-1][2]:>7}  {met}"
        )


if __name__ == "__main__":
    main()
