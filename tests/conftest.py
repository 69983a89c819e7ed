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


@pytest.fixture(scope="session")
def tiny_run(tiny_data, tmp_path_factory) -> Path:
    """A 2-step semi-supervised run of the ``small`` encoder on ``tiny`` (pitch labels); its folder."""
    from semisup.train import TrainConfig, train

    return train(TrainConfig(
        labeled=f"embedded:{tiny_data}?task=notes&label=pitch", unlabeled=f"embedded:{tiny_data}?task=unlabeled",
        steps=2, batch_size=4, encoder="small", num_workers=0, progress=False,
        run_dir=str(tmp_path_factory.mktemp("runs") / "tiny-semi")))


@pytest.fixture(scope="session")
def tiny_export(tiny_run, tmp_path_factory) -> Path:
    """``tiny_run`` exported by ``semisup.export`` (encoder only); its folder."""
    from semisup.export import export_run

    return export_run(tiny_run, tmp_path_factory.mktemp("export") / "semisupcon-tiny")


@pytest.fixture(scope="session")
def tiny_demo(tiny_data, tmp_path_factory) -> tuple[Path, str]:
    """``make demo``'s pipeline on ``tiny`` (2 steps, pitch task only); (its ``demo/`` folder, stdout).

    Shared by the demo's end-to-end test and the book's build, which reads its executed notebooks.
    """
    import contextlib
    import io

    from semisup.demo import main as demo_main

    root, printed = tmp_path_factory.mktemp("demo"), io.StringIO()
    with contextlib.redirect_stdout(printed):
        demo_main(["--steps", "2", "--batch-size", "4", "--data-dir", str(tiny_data), "--size", "tiny",
                   "--tasks", "pitch", "--root", str(root)])
    return root / "demo", printed.getvalue()
