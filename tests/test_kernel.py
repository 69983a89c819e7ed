"""Notebooks run on a kernel over Unix sockets: no ipykernel TCP warning in ``make demo``'s output."""

import os
import tempfile

import nbformat

from semisup.kernel import IPCKernelManager, ipc_prefix
from semisup.sweep import execute


def test_executed_notebook_runs_on_ipc_without_the_tcp_warning(tmp_path, capfd):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("print(x + 1)")]
    nb.metadata["kernelspec"] = {"name": "semisup", "display_name": "Python (semisup)", "language": "python"}
    nbformat.write(nb, tmp_path / "in.ipynb")
    execute(tmp_path / "in.ipynb", tmp_path / "out.ipynb", {"x": 41}, progress=False)
    assert nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[-1].outputs[0]["text"] == "42\n"
    captured = capfd.readouterr()
    assert "without encryption" not in captured.err + captured.out  # the kernel's stderr is ours
    assert IPCKernelManager().transport == "ipc"


def test_socket_paths_fit_a_unix_socket_address_even_under_a_deep_runtime_dir(tmp_path):
    deep = tmp_path / ("d" * 60) / "runtime"  # pytest's own temp paths already run long
    prefix = ipc_prefix(str(deep))
    assert len(prefix.encode()) + len("-5") <= 107 and "semisup-kernel-" in prefix
    short = tempfile.mkdtemp(prefix="k")  # a short runtime dir keeps the sockets there
    try:
        assert ipc_prefix(short).startswith(short + os.sep)
    finally:
        os.rmdir(short)
