"""notebooks/01_data.ipynb runs end to end under nbval on the tiny build.

Parameters are injected into a copy with papermill (``prepare_only``), so the committed
notebook keeps its literal default (``data/small``); nbval then executes the copy.
"""

import subprocess
import sys

import nbformat
import papermill

from semisup.paths import repo_root

NOTEBOOK = repo_root() / "notebooks" / "01_data.ipynb"


def test_notebook_is_committed_clean_with_literal_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    (parameters,) = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert "data_dir = " in parameters.source and "seed = " in parameters.source
    assert not any(line.lstrip().startswith(("def ", "class ")) for c in code
                   for line in c.source.splitlines())  # helpers live in semisup/


def test_notebook_runs_under_nbval_on_tiny(tiny_data, tmp_path):
    copy = tmp_path / "01_data.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(copy), prepare_only=True, progress_bar=False,
                               parameters={"data_dir": str(tiny_data), "seed": 1})
    injected = nbformat.read(copy, as_version=4)
    assert any(str(tiny_data) in c.source for c in injected.cells if c.cell_type == "code")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--nbval-lax", "--nbval-current-env",
         "-p", "no:cacheprovider", str(copy)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "passed" in result.stdout
