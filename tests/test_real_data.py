"""The researcher's journey on real layouts: raw specs, prepare once, pretrain on prepared specs.

MTAT (16 kHz mono mp3, folders 0/ ... f/ at the root, the three zero-byte mp3s) and FMA
(44.1 kHz stereo mp3, the ID3-only file, tracks.csv with its 3-row header) as written by
:mod:`semisup.data.fixtures`; the `small` encoder so that a few steps take seconds.
"""

import subprocess
import sys

import pandas as pd
import papermill
import pytest

from semisup.data.fixtures import MTAT_ZERO_BYTE, write_fma, write_mtat
from semisup.data.prepare import prepare
from semisup.paths import repo_root

FAST = ["--encoder", "small", "--batch-size", "4", "--progress", "false", "--num-workers", "0",
        "--checkpoint-every", "1"]


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    mtat = write_mtat(root / "MTAT", n_clips=8, seconds=3.0)
    fma = write_fma(root / "fma", n_tracks=6, seconds=3.0, short_seconds=2.6)
    return {"root": root, "labeled": f"mtat:{mtat}?subset=top50", "unlabeled": f"fma:{fma}"}


def train_cli(run_dir, labeled, unlabeled, *flags):
    return subprocess.run([sys.executable, "-m", "semisup.train", "--run-dir", str(run_dir), "--labeled", labeled,
                           "--unlabeled", unlabeled, *FAST, *flags], capture_output=True, text=True)


def test_raw_specs_name_a_bad_file_or_skip_and_count_it(trees, tmp_path):
    # 4 steps x 2 labeled clips cover every train clip of MTAT, so the zero-byte files are drawn.
    failed = train_cli(tmp_path / "strict", trees["labeled"], trees["unlabeled"], "--steps", "4")
    assert failed.returncode != 0
    assert any(rel in failed.stderr for rel in MTAT_ZERO_BYTE.values())
    assert "--skip-bad true" in failed.stderr and "semisup.data.prepare" in failed.stderr
    skipped = train_cli(tmp_path / "skip", trees["labeled"], trees["unlabeled"], "--steps", "4", "--skip-bad", "true")
    assert skipped.returncode == 0, skipped.stderr[-3000:]
    metrics = pd.read_csv(tmp_path / "skip" / "metrics.csv")
    assert len(metrics) == 4 and metrics["n_skipped"].sum() >= 3 and metrics["loss"].between(0, 20).all()
    assert metrics["data_share"].between(0, 1).all()


@pytest.mark.slow
def test_prepare_then_pretrain_on_prepared_specs_by_cli_and_papermill(trees, tmp_path):
    specs = {}
    for name in ("labeled", "unlabeled"):
        summary = prepare(trees[name], tmp_path / f"{name}_16k", sample_rate=16000, workers=2, progress=False)
        assert summary.n_rejected == (3 if name == "labeled" else 1)  # zero-byte mp3s; the ID3-only file
        specs[name] = f"prepared:{tmp_path / f'{name}_16k'}"
    done = train_cli(tmp_path / "cli", specs["labeled"], specs["unlabeled"], "--steps", "3")
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = pd.read_csv(tmp_path / "cli" / "metrics.csv")
    assert list(metrics["step"]) == [0, 1, 2] and (metrics["n_skipped"] == 0).all()
    assert (metrics["labeled_fraction"] == 0.5).all()
    papermill.execute_notebook(
        str(repo_root() / "notebooks" / "02_pretrain.ipynb"), str(tmp_path / "02.ipynb"), progress_bar=False,
        parameters={**specs, "run_dir": str(tmp_path / "nb"), "steps": 3, "batch_size": 4, "num_workers": 0},
        cwd=str(repo_root()))
    assert len(pd.read_csv(tmp_path / "nb" / "metrics.csv")) == 3


@pytest.mark.slow
def test_papermill_03_probes_a_run_on_real_dataset_specs(tiny_run, trees, tmp_path):
    from semisup.data.fixtures import write_nsynth

    nsynth = write_nsynth(tmp_path / "nsynth", n_notes={"train": 12, "valid": 4, "test": 4}, seconds=2.0)
    tasks = [f"nsynth:{nsynth}?label=pitch", trees["labeled"]]  # MTAT with its zero-byte mp3s
    papermill.execute_notebook(
        str(repo_root() / "notebooks" / "03_probe.ipynb"), str(tmp_path / "03.ipynb"), progress_bar=False,
        parameters={"run_dir": str(tiny_run), "tasks": tasks, "max_epochs": 2,
                    "results_csv": str(tmp_path / "probes.csv")}, cwd=str(repo_root()))
    rows = pd.read_csv(tmp_path / "probes.csv")
    assert set(rows["task"]) == set(tasks)
    skipped = rows[rows["metric"].str.startswith("n_skipped")].groupby("task")["value"].sum()
    assert skipped[trees["labeled"]] == 3 and skipped[tasks[0]] == 0
    assert rows.query("metric == 'accuracy'")["value"].between(0, 1).all()
