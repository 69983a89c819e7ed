"""The numbered notebooks run end to end (nbval) on the tiny data with smoke parameters.

Parameters are injected into copies with papermill (``prepare_only``), so the committed
notebooks keep their literal, laptop-sized defaults; nbval then executes the copies in order
(02 trains the run that 03 probes). Afterwards the files the notebooks promise are checked.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest

from semisup.paths import repo_root

ROOT = repo_root()
SMOKE = {"steps": 2, "batch_size": 4, "max_epochs": 2}


def smoke_parameters(tiny, tmp):
    runs, results = str(tmp / "runs"), str(tmp / "results")
    pitch, key, tags = (f"embedded:{tiny}?{q}" for q in ("task=notes&label=pitch", "task=key", "task=tags"))
    data = {"unlabeled": f"embedded:{tiny}?task=unlabeled"}
    return {
        "02_pretrain.ipynb": {**data, "labeled": pitch, "run_dir": str(tmp / "run02"), "steps": 2, "batch_size": 4,
                              "num_workers": 0},
        "03_probe.ipynb": {"run_dir": str(tmp / "run02"), "max_epochs": 2, "tasks": [pitch, key, tags]},
        "04_ablations.ipynb": {**data, "labeled": tags, "sweeps": ["ps_bs"], "seeds": [0], "probe_tasks": [tags],
                               "max_points": 2, "runs_root": str(tmp / "papermill_runs"), **SMOKE, "batch_size": 10},
        "05_robustness.ipynb": {**data, "labeled": tags, "runs_root": runs, "results_dir": results, "severities": [0, 4],
                                "corruptions": ["reverb", "bitcrush"], **SMOKE},
        "06_tsne.ipynb": {**data, "labeled": pitch, "runs_root": runs, "results_dir": results, "steps": 2, "batch_size": 4},
        "07_cross_task.ipynb": {**data, "labeled": [pitch, tags], "runs_root": runs, "results_dir": results,
                                "probe_tasks": [pitch, key], **SMOKE},
    }


def test_committed_notebooks_have_no_outputs_and_a_parameters_cell():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name} has outputs"
        tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"


@pytest.mark.slow
def test_notebooks_run_under_nbval(tiny_data, tmp_path):
    copies = []
    for name, parameters in smoke_parameters(str(tiny_data), tmp_path).items():
        copy = tmp_path / name
        papermill.execute_notebook(str(ROOT / "notebooks" / name), str(copy), parameters=parameters,
                                   prepare_only=True, progress_bar=False)
        copies.append(str(copy))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider",
                             *copies], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]

    metrics = pd.read_csv(tmp_path / "run02" / "metrics.csv")
    assert len(metrics) == 2 and metrics["loss"].between(0, 20).all()
    probes = pd.read_csv(tmp_path / "run02" / "probe_results.csv")
    assert set(probes["task"]) == set(smoke_parameters(str(tiny_data), tmp_path)["03_probe.ipynb"]["tasks"])
    assert set(probes["protocol"]) == {"crops"}  # the authors' protocol by default
    scores = probes[probes["metric"] != "n_classes_scored"]
    assert scores["value"].between(0, 1).all()
    sweep = pd.read_csv(tmp_path / "papermill_runs" / "ps_bs" / "results.csv")
    assert sorted(sweep["run"].unique()) == ["ps=0.0_bs=0.0_seed=0", "ps=0.1_bs=0.1_seed=0"]
    params = json.loads((tmp_path / "papermill_runs" / "ps_bs" / "ps=0.1_bs=0.1_seed=0" / "params.json").read_text())
    assert params["parameters"]["ps"] == 0.1 and params["git_sha"] and params["versions"]["torch"]
    robustness = pd.read_csv(tmp_path / "results" / "robustness.csv")
    assert set(robustness["model"]) == {"self-supervised", "semi-supervised", "supervised contrastive", "end-to-end"}
    assert set(robustness["corruption"]) == {"severity=0", "severity=4", "reverb", "bitcrush"}
    knn = pd.read_csv(tmp_path / "results" / "knn_seed123.csv")
    assert knn["knn_pitch_class_accuracy"].between(0, 1).all() and len(knn) == 2
    assert (tmp_path / "results" / "tsne_seed123.png").read_bytes().startswith(b"\x89PNG")
    cross = pd.read_csv(tmp_path / "results" / "cross_task.csv")
    assert set(cross["model"]) == {"self-supervised", "self-supervised, no pitch shift", "notes-pitch", "tags"}


@pytest.mark.slow
def test_the_readme_user_command_works_as_typed(tmp_path):
    """``papermill notebooks/02_pretrain.ipynb out.ipynb -p ps 0.1`` on the default data, with no warning.

    Builds ``data/small`` when it is missing (the same no-op-if-built step as ``make demo``),
    runs the command from the repository root and from ``notebooks/`` with a small ``steps``
    override, and removes the run directory it created.
    """
    import shutil

    from semisup.data.embedded.build import build
    from semisup.train import TrainConfig, default_run_dir

    build("small", ROOT / "data" / "small", seed=0, progress=False)
    config = TrainConfig(ps=0.1, steps=2)
    run = ROOT / default_run_dir(config)
    existed = run.exists()
    try:
        for cwd, notebook in ((ROOT, "notebooks/02_pretrain.ipynb"), (ROOT / "notebooks", "02_pretrain.ipynb")):
            out = tmp_path / f"out-{cwd.name}.ipynb"
            done = subprocess.run([str(Path(sys.executable).parent / "papermill"), notebook, str(out), "-p", "ps",
                                   "0.1", "-p", "steps", "2"], cwd=cwd, check=True, capture_output=True, text=True)
            assert out.exists()
            # papermill#864: a '=' inside a value on the assignment's line gave "Unable to parse line 9"
            assert "Unable to parse" not in done.stderr and "unknown parameter" not in done.stderr, done.stderr
        metrics = pd.read_csv(run / "metrics.csv")
        assert list(metrics["step"]) == [0, 1] and metrics["loss"].between(0, 20).all()
        assert (metrics["labeled_fraction"] == 0.5).all()
        assert json.loads((run / "config.json").read_text())["ps"] == 0.1
    finally:
        if not existed:
            shutil.rmtree(run, ignore_errors=True)


def test_bad_parameter_fails_in_the_validation_cell_naming_it(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="ps=1.5") as error:
        papermill.execute_notebook(str(ROOT / "notebooks" / "02_pretrain.ipynb"), str(tmp_path / "out.ipynb"),
                                   parameters={"ps": 1.5, "labeled": f"embedded:{tmp_path}?task=tags"}, progress_bar=False)
    assert error.value.exec_count <= 3  # parameters, injected parameters, validation


def printed_text(path) -> str:
    """Every stream, plain-text and HTML output of an executed notebook, joined."""
    chunks = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            chunks.append(output.get("text", ""))
            data = output.get("data", {})
            chunks += [data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(chunks)


@pytest.mark.slow
def test_02_and_06_say_what_their_data_hold_for_bs_0_and_pitch_labels(tiny_data, tmp_path):
    """Statements printed by 02 (b_s = 0 and b_s = 0.5, pitch labels) and 06 match the data: no NaN,
    no "share a label" without labeled clips, sparsities in % within [0, 100]."""
    from semisup.sweep import execute

    pitch, pool = f"embedded:{tiny_data}?task=notes&label=pitch", f"embedded:{tiny_data}?task=unlabeled"
    text = {}
    for bs in (0.0, 0.5):
        out = tmp_path / f"02_bs{bs}.ipynb"
        execute(ROOT / "notebooks" / "02_pretrain.ipynb", out,
                {"labeled": pitch, "unlabeled": pool, "bs": bs, "steps": 2, "batch_size": 4, "num_workers": 0,
                 "run_dir": str(tmp_path / f"run_bs{bs}")}, progress=False)
        text[bs] = printed_text(out)
    assert "no labeled clips" in text[0.0] and "share a label" not in text[0.0]
    assert "n/a (no labeled clips)" in text[0.0]
    assert "2 of the 4 clips are labeled (1 label(s) per clip)" in text[0.5]
    assert "the C = 2 panel keeps only the diagonal blocks" in text[0.5]
    out = tmp_path / "06.ipynb"
    execute(ROOT / "notebooks" / "06_tsne.ipynb", out,
            {"labeled": pitch, "unlabeled": pool, "steps": 2, "batch_size": 4, "runs_root": str(tmp_path / "runs"),
             "pitch_bs": 0.5}, progress=False)
    text[6] = printed_text(out)
    assert "24 held-out notes" in text[6] and "(ps = 1.0, bs = 0.5)" in text[6]
    assert "nearest neighbours share its pitch class (chance" in text[6]
    for words in text.values():
        assert re.search(r"\bnan\b", words, re.IGNORECASE) is None
    for bs in (0.0, 0.5):  # every sparsity, printed in %, lies in [0, 100]
        rows = [line for line in text[bs].splitlines() if re.match(r"\s*s_s?m?sl \(%\)", line)]
        values = [float(v) for line in rows for v in re.findall(r"\d+\.\d", line)]
        assert rows and values and all(0 <= v <= 100 for v in values)
