"""Bars are text wherever a notebook is saved by a program, widgets only in a live session.

Kernels are started the ways that matter: by papermill (our ``sweep.execute`` and the plain
CLI), by papermill from inside a live notebook (``JPY_SESSION_NAME`` inherited), and as a
Jupyter server starts them (``JPY_SESSION_NAME`` set for the kernel alone). The real server
is exercised in ``test_jupyter.py``.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from jupyter_client.manager import start_new_kernel

from semisup.progress import ENV_VAR, progress_bar, progress_mode, training_summary
from semisup.sweep import execute

WIDGET = "application/vnd.jupyter.widget-view+json"
BAR_CELL = ("import time\nfrom semisup.progress import progress_bar, progress_mode\nprint(progress_mode())\n"
            "for _ in progress_bar(range(40), desc='steps'):\n    time.sleep(0.05)")


@pytest.fixture(autouse=True)
def automatic_mode(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)


def bar_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BAR_CELL)])
    nb.metadata["kernelspec"] = {"name": "semisup", "display_name": "Python (semisup)", "language": "python"}
    nbformat.write(nb, path)
    return path


def saved_outputs(path: Path) -> tuple[str, list[str]]:
    """Return the cell's stream text and the mime types of its other outputs."""
    (cell,) = nbformat.read(path, as_version=4).cells
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return text, [m for o in cell.outputs for m in o.get("data", {})]


def assert_text_bar(path: Path) -> None:
    text, mimes = saved_outputs(path)
    assert text.startswith("text\n"), text[:200]
    assert WIDGET not in mimes
    # 40 steps in ~2 s, refreshed at most every NOTEBOOK_REFRESH_S: the first and last states only
    assert text.count("\r") <= 3 and "steps: 100%" in text and "40/40" in text, text


def test_execute_saves_text_bars_even_when_called_from_a_live_notebook(tmp_path):
    notebook = bar_notebook(tmp_path / "bar.ipynb")
    execute(notebook, tmp_path / "plain.ipynb", {}, progress=False)
    assert_text_bar(tmp_path / "plain.ipynb")
    # 04_ablations runs sweeps from a live kernel, a process started with JPY_SESSION_NAME:
    # the kernels papermill starts from there inherit the variable
    live = {**os.environ, "JPY_SESSION_NAME": str(tmp_path / "04_ablations.ipynb")}
    call = f"from semisup.sweep import execute; execute({str(notebook)!r}, {str(tmp_path / 'nested.ipynb')!r}, {{}})"
    subprocess.run([sys.executable, "-c", call], env=live, check=True, capture_output=True)
    assert_text_bar(tmp_path / "nested.ipynb")


def test_papermill_cli_saves_text_bars(tmp_path):
    notebook = bar_notebook(tmp_path / "bar.ipynb")
    papermill = Path(sys.executable).parent / "papermill"
    subprocess.run([str(papermill), str(notebook), str(tmp_path / "out.ipynb")], check=True, capture_output=True)
    assert_text_bar(tmp_path / "out.ipynb")


def test_a_kernel_started_like_a_jupyter_server_does_gets_widgets():
    env = {**os.environ, "JPY_SESSION_NAME": "/somewhere/02_pretrain.ipynb"}  # this process has none
    km, kc = start_new_kernel(kernel_name="semisup", env=env)
    try:
        reply = kc.execute_interactive("from semisup.progress import progress_mode; mode = progress_mode()",
                                       user_expressions={"mode": "mode"}, timeout=60)
        assert reply["content"]["user_expressions"]["mode"]["data"]["text/plain"] == "'widgets'"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_mode_outside_a_kernel_and_the_override(monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "x.ipynb")  # a terminal inside JupyterLab: still no kernel
    assert progress_mode() == "text"
    assert type(progress_bar(range(3), disable=True)).__module__ == "tqdm.std"
    monkeypatch.setenv(ENV_VAR, "widgets")
    assert progress_mode() == "widgets"
    monkeypatch.setenv(ENV_VAR, "bars")
    with pytest.raises(ValueError, match="SEMISUP_PROGRESS='bars'"):
        progress_mode()


def test_text_bars_in_a_kernel_print_a_bounded_number_of_updates(monkeypatch, capsys):
    import semisup.progress

    monkeypatch.setattr(semisup.progress, "_in_kernel", lambda: True)
    for _ in progress_bar(range(1000), desc="slow steps", mininterval=0):  # as if each step took > 5 s
        pass
    out = capsys.readouterr().out  # stdout, not stderr: no red block in the notebook
    assert out.count("\r") == 1 + 20 + 1  # the empty bar, every 50 steps, the final state on close
    assert "slow steps: 100%" in out.splitlines()[-1] and "1000/1000" in out.splitlines()[-1]


def test_training_summary_from_a_hand_written_log(tmp_path):
    # batch 4 at 2, 4 and 4 clips/s: 2 + 1 + 1 = 4 s for 12 clips
    pd.DataFrame({"step": [0, 1, 2], "loss": [5.0, 3.0, 1.0], "clips_per_s": [2.0, 4.0, 4.0]}).to_csv(
        tmp_path / "metrics.csv", index=False)
    assert training_summary(tmp_path / "metrics.csv", 4, last=2) == (
        "pretraining: 3 steps in 4 s (3 clips/s), final loss 2.00 (mean of last 2)")
    with pytest.raises(FileNotFoundError, match="nothing.csv"):
        training_summary(tmp_path / "nothing.csv", 4)


def test_train_and_probe_end_with_a_summary_line(tiny_data, tmp_path, capsys):
    from semisup.probe import probe_run
    from semisup.train import TrainConfig, train

    config = TrainConfig(labeled=f"embedded:{tiny_data}?task=notes&label=pitch", run_dir=str(tmp_path / "run"),
                         unlabeled=f"embedded:{tiny_data}?task=unlabeled", steps=2, batch_size=4, num_workers=0,
                         progress=False)
    train(config)
    line = r"pretraining: 2 steps in \d+ s \(\d+ clips/s\), final loss \d+\.\d\d \(mean of last 2\)"
    assert re.fullmatch(line, capsys.readouterr().out.splitlines()[-1])
    train(config)  # finished: nothing to do, but the summary is still printed
    assert re.fullmatch(rf".*run was already trained; {line}", capsys.readouterr().out.splitlines()[-1])
    key = f"embedded:{tiny_data}?task=key"
    table = probe_run(tmp_path / "run", [key], max_epochs=1, progress=False)
    weighted = table.query("task == @key and metric == 'weighted'")["value"].item()
    assert capsys.readouterr().out.splitlines()[-1] == f"probes of run: key weighted {weighted:.3f}"
