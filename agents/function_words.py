"""Words that carry nothing of what an image shows: never a difference, never a detail."""

FUNCTION_WORDS = frozenset({
    "a", "an", "the", "of", "in", "on", "at", "and", "or", "with", "by", "its", "it", "is", "are",
    "from", "to", "into", "some", "this", "that", "there",
})  # fmt: skip
