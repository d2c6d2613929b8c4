"""Problem definitions: each module declares ``Params`` and ``build(params) -> Problem``."""
