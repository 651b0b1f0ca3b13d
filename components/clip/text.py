"""Texts that fit a CLIP text encoder's context, cut at a word boundary instead of mid-token."""

from __future__ import annotations

from typing import Any


def token_count(text: str, tokenizer: Any) -> int | None:
    """Tokens the text needs including start/end markers, or None if the tokenizer cannot say."""
    encode = getattr(tokenizer, "encode", None)
    if encode is None and hasattr(tokenizer, "tokenizer"):
        encode = getattr(tokenizer.tokenizer, "encode", None)
    if encode is None:
        return None
    try:
        ids = encode(text)
    except Exception:  # noqa: BLE001 - any tokenizer failure means "unknown"; the model truncates
        return None
    return len(ids) + 2  # open_clip's SimpleTokenizer adds neither marker in encode()


def fit_to_context(text: str, tokenizer: Any) -> tuple[str, bool]:
    """``text`` shortened word by word until it fits ``tokenizer.context_length``.

    Returns the text and whether it was cut. open_clip would truncate silently mid-phrase and
    drop the end-of-text token's meaning; cutting whole words keeps the description readable.
    """
    limit = getattr(tokenizer, "context_length", None)
    count = token_count(text, tokenizer)
    if limit is None or count is None or count <= limit:
        return text, False
    words = text.split()
    low, high = 0, len(words)  # binary search for the longest prefix that fits
    while low < high:
        middle = (low + high + 1) // 2
        needed = token_count(" ".join(words[:middle]), tokenizer)
        if needed is not None and needed <= limit:
            low = middle
        else:
            high = middle - 1
    return " ".join(words[:low]), True
