"""Building blocks with no orchestration: encoders, caches, ranking maths, media processing.

Importing this package loads no model and reads no settings; import the submodule you need,
for example ``from clipflows.components.clip import ClipEncoder``.
"""
