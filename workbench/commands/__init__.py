"""One module per CLI verb. Each exposes ``add_arguments(parser)`` and ``run(args) -> int``."""
