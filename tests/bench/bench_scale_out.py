"""Set difference on one worker, on a thread pool and on a local Dask cluster, side by side.

After an untimed warm-up, each run starts from an empty cache (every image encoded, every LLM
question asked; Dask's cluster start-up included), with the LLM served by vLLM on CPU
(`deploy/vllm-cpu`, started here unless ``--base-url`` is given), so concurrent proposer and
judge calls can be batched by the server. Prints wall time per runner, the speed-up over one
worker, and whether every runner ranks the same hypotheses.
Run: ``python tests/bench/bench_scale_out.py --images 200 --rounds 4``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from rich.console import Console
from rich.table import Table

from clipflows.agents.proposer import ProposerConfig
from clipflows.components.settings import LLMSettings, Settings, default_cache_dir
from clipflows.components.world.model import ensure_world_clip
from clipflows.components.world.set_pairs import WORLD_SET_PAIRS, write_pair
from clipflows.components.world.vocabulary import WORLD_VOCABULARY
from clipflows.flows.runtime.deployments import with_task_runner
from clipflows.flows.runtime.temporary_server import tie_temporary_server
from clipflows.flows.set_difference import set_difference

SERVE = Path(__file__).resolve().parents[2] / "deploy/vllm-cpu/serve.sh"
RUNNERS = [
    ("thread", 1, 1),
    ("thread", 8, 1),
    ("dask", 2, 1),
    ("dask", 2, 4),
]  # name, workers, threads each


def start_vllm(log: Path) -> tuple[subprocess.Popen, str]:
    """vLLM on a free port; waits until it lists its model (a few minutes on first setup)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(SERVE)],
        env={**os.environ, "PORT": str(port)},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"vLLM exited; see {log}")
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).close()
            return server, url
        except OSError:
            time.sleep(2)
    server.terminate()
    raise SystemExit(f"vLLM not ready after 15 min; see {log}")


def main() -> None:
    tie_temporary_server()  # a killed run leaves no temporary Prefect server behind
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200, help="Images per set.")
    parser.add_argument("--rounds", type=int, default=4, help="Proposer rounds (2 calls each).")
    parser.add_argument("--base-url", help="A running OpenAI-compatible server to use instead.")
    args = parser.parse_args()
    spec = f"local-dir:{ensure_world_clip(default_cache_dir())}"
    pair = WORLD_SET_PAIRS[0]
    with tempfile.TemporaryDirectory() as tmp:
        server, url = (None, args.base_url) if args.base_url else start_vllm(Path(tmp) / "vllm.log")
        try:
            set_a, set_b = write_pair(pair, Path(tmp) / "sets", count=args.images)
            rows = []
            # The first run warms the server and this process (model loads, Prefect); not timed.
            for runner, workers, threads in [("thread", 8, 1), *RUNNERS]:
                settings = Settings(
                    cache_dir=Path(tmp) / f"cache-{len(rows)}",
                    clip=spec,
                    llm=LLMSettings(
                        backend="openai-compatible", base_url=url, model="smollm2-135m"
                    ),
                )
                flow = with_task_runner(set_difference, runner, workers, threads)
                start = time.perf_counter()
                result = flow(
                    str(set_a),
                    str(set_b),
                    settings=settings,
                    vocabulary=WORLD_VOCABULARY,
                    proposer=ProposerConfig(rounds=args.rounds, sample_size=10),
                    truth=pair.truth,
                    shard_size=max(1, args.images // 4),
                )
                rows.append((runner, f"{workers} x {threads}", time.perf_counter() - start, result))
            rows = rows[1:]
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=60)
    base = rows[0][2]
    table = Table(title=f"set difference, {args.images}+{args.images} images, vLLM on CPU")
    for column in (
        "runner",
        "workers x threads",
        "wall s",
        "speed-up",
        "LLM calls",
        "top hypothesis",
    ):
        table.add_column(column)
    for runner, workers, seconds, result in rows:
        top = result.ranking[0]
        table.add_row(
            runner,
            workers,
            f"{seconds:.1f}",
            f"x{base / seconds:.2f}",
            str(result.llm_calls),
            f"{top.text} ({top.direction}, AUROC {top.auroc:.3f})",
        )
    Console().print(table)
    rankings = {tuple((s.text, s.direction) for s in r.ranking) for *_, r in rows}
    print("same ranking under every runner:", len(rankings) == 1)


if __name__ == "__main__":
    main()
