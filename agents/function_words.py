"""Words that carry nothing of what an image shows: never a difference, never a detail."""

FUNCTION_WORDS = frozenset({
    "a", "an", "the", "of", "in", "on", "at", "and", "or", "with", "by", "its", "it", "is", "are",
    "from", "to", "into", "some", "this", "that", "there",
})  # fmt: skip

# Kinds of thing that name no kind in particular: asked what a caption shows, the LLM answers
# "shape" or "object" when it finds nothing more specific, so such a kind is never a difference.
GENERIC_KINDS = frozenset({"shape", "object", "thing", "item"})
