"""Shared fixtures: the ``tiny`` embedded benchmark, built once per test session."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """Build ``--size tiny`` (seed 0, 2 workers) into a session temp folder; return its Path.

    Parsed scores are cached as usual (``$SEMISUP_CACHE_DIR`` or ``~/.cache/semisup``), so
    the build takes ~5 s when the cache is warm and ~10-20 s on a fresh machine.
    """
    from semisup.data.embedded.build import build

    return build("tiny", tmp_path_factory.mktemp("embedded") / "tiny", seed=0, workers=2,
                 progress=False)
