"""LLM agents: one small interface over an embedded, a server and an in-process vLLM backend.

Importing this package loads no model and reads no settings; use
``from clipflows.agents.llm import create_llm`` and ask it ``ask_text`` or ``ask_structured``.
"""
