"""The demo's LLM time before and after issue 26, side by side in one run.

"before" runs the demo with the embedded model on half the CPUs (as it was); "after" with
today's default (agents/embedded.py: default_threads). Each run starts from an empty
LLM-answer cache; every other cache (the world CLIP, renders, embeddings, the music models) is
shared with the default cache dir through links, so the LLM's part is what differs. Prints the
demo's LLM seconds, calls and where they went (prompt evaluation, generation), and each run's
wall time, with the load average at start and end.

Run: ``python tests/bench/bench_demo_llm.py`` (two demos: about 15 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from clipflows.components.settings import LLMSettings, Settings, load_settings
from clipflows.flows.demo import demo_flow
from clipflows.flows.runtime.worker_models import worker_llm

LLM_CACHE = "llm"  # agents/llm.py: the answers' cache under the cache dir


def linked_cache(shared: Path, folder: Path) -> Path:
    """A cache dir whose entries link to ``shared``'s, except an empty LLM-answer cache."""
    folder.mkdir(parents=True)
    for entry in shared.iterdir() if shared.is_dir() else []:
        if entry.name != LLM_CACHE:
            (folder / entry.name).symlink_to(entry)
    return folder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", default="before,after")
    args = parser.parse_args(argv)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = {"before": max(1, (cpus or 2) // 2), "after": None}
    shared = load_settings().cache_dir
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({cpus} CPUs)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.paths.split(","):
            settings = Settings(
                cache_dir=linked_cache(shared, Path(tmp) / path / "cache"),
                llm=LLMSettings(threads=threads[path]),
            )
            start = time.perf_counter()
            result = demo_flow(settings=settings, output=str(Path(tmp) / path / "out"))
            wall = time.perf_counter() - start
            spent = worker_llm(settings).chat_model.time_split
            print(
                f"{path:>6}: demo {wall:6.0f} s; LLM {result.llm_seconds:6.1f} s answering, "
                f"{spent.calls} calls, {result.llm_tokens} tokens generated; prompt "
                f"{spent.prompt_tokens} tokens evaluated in {spent.prompt_seconds:.1f} s, "
                f"generation {spent.generation_seconds:.1f} s (threads "
                f"{worker_llm(settings).chat_model.threads})",
                flush=True,
            )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
