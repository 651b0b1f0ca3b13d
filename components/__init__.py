"""Building blocks with no orchestration, one package per domain over a small shared core.

The core sits at the root (settings, errors, cache, device, images, audio, files, reports,
checkpoints, packaged, sentence); ``clip/`` is CLIP itself; ``world/`` the synthetic world and
its benchmarks; ``set_difference/``, ``classification/``, ``separation/`` and ``music/`` one
paper each. Importing a package loads no model and reads no settings; import the module you
need, for example ``from clipflows.components.clip import ClipEncoder``.
"""
