"""Names the classification flow, CLI, page and assistant share (kept free of heavy imports, so
the CLI can check its arguments before anything loads)."""

WORLD_TASK = "world"  # the dataset that is the world's class task, and its oracle descriptions
LLM_DESCRIPTIONS = "llm"  # descriptions written by the LLM
