"""SemiSupCon helpers.

``semisup.load_encoder(path)`` loads the frozen encoder of a run folder or of a folder
written by ``python -m semisup.export`` (:func:`semisup.train.load_encoder`).
"""


def __getattr__(name: str):
    """Import ``load_encoder`` on first use, so ``import semisup`` stays light."""
    if name == "load_encoder":
        from semisup.train import load_encoder

        return load_encoder
    raise AttributeError(f"module 'semisup' has no attribute {name!r}")
