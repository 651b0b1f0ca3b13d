"""Where the tests' LLM files are: a plain module, since every conftest.py is imported under
the one name `conftest` and a later one (tests/resilience) shadows the first."""

from __future__ import annotations

from pathlib import Path

from clipflows.agents.llm_registry import TEST_LLM, llm_entry, locate_llm
from clipflows.components.settings import default_cache_dir


def smollm2_gguf() -> Path:
    """The checked GGUF file of the tests' model (SmolLM2, inside its package)."""
    return locate_llm(llm_entry(TEST_LLM), default_cache_dir() / "llms")
