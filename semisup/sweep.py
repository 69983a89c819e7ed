"""Batch reruns: papermill over a parameter grid, one folder per run, one tidy table.

    python -m semisup.sweep notebooks/sweeps/criterion.yaml          # run (skips finished runs)
    python -m semisup.sweep aggregate papermill_runs/criterion        # -> results.csv

A grid file names the sweep, the notebooks to execute in order, base parameters, a grid
(cartesian product) and seeds::

    sweep: criterion
    notebooks: [notebooks/02_pretrain.ipynb, notebooks/03_probe.ipynb]
    base: {steps: 300, labeled: "embedded:data/small?task=tags", tasks: ["embedded:data/small?task=tags"]}
    grid: {criterion: [1, 2, 4, 6, weighted]}
    seeds: [0, 1, 2]

Tied parameters share one grid axis: ``"ps,bs": [[0.1, 0.1], [0.5, 0.5]]``.

Conventions
-----------
- Run ``<root>/<sweep>/<run>/`` holds the executed notebooks, ``params.json`` (parameters,
  git SHA, package versions) and, because ``run_dir`` points there, the training run itself
  (``config.json``, ``metrics.csv``, ``checkpoint.pt``) and ``probe_results.csv``.
- ``done.json`` is written (atomically) after the last notebook: a re-run skips such runs
  and re-executes unfinished ones (training resumes from its checkpoint).
- Run names are ``key=value`` pairs of the grid point joined by ``_``, in grid order; a
  dataset spec value is named by its slug (``labeled=mtat-top50``), so grids may vary specs.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.metadata
import itertools
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from semisup import cli
from semisup.paths import atomic_write, repo_path, repo_root

__all__ = ["load_grid", "expand_grid", "execute", "run_sweep", "aggregate", "main"]

PACKAGES = ("torch", "torchaudio", "torch-audiomentations", "numpy", "scikit-learn", "mir_eval", "papermill")


def load_grid(spec: str | os.PathLike | dict) -> dict:
    """Read and validate a grid spec (YAML path or dict)."""
    if not isinstance(spec, dict):
        path = Path(spec)
        if not path.exists():
            raise FileNotFoundError(f"grid file {path} not found")
        spec = yaml.safe_load(path.read_text()) or {}
    unknown = set(spec) - {"sweep", "notebooks", "base", "grid", "seeds", "root"}
    if unknown:
        raise ValueError(f"grid spec has unknown keys {sorted(unknown)}; expected sweep, notebooks, base, grid, seeds, root")
    if not spec.get("sweep") or not isinstance(spec["sweep"], str):
        raise ValueError("grid spec needs a 'sweep' name (a folder name under papermill_runs/)")
    if not spec.get("notebooks"):
        raise ValueError("grid spec needs a non-empty 'notebooks' list")
    for key in ("base", "grid"):
        if not isinstance(spec.get(key, {}), dict):
            raise ValueError(f"'{key}' must be a mapping of parameter -> value(s)")
    for name, values in spec.get("grid", {}).items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"grid entry {name!r} must be a non-empty list")
        width = len(name.split(","))
        if width > 1 and any(not isinstance(v, list) or len(v) != width for v in values):
            raise ValueError(f"tied grid entry {name!r} needs lists of {width} values, got {values!r}")
    return spec


def expand_grid(spec: dict) -> list[tuple[str, dict]]:
    """All (run name, parameters) pairs of a grid spec: the cartesian product × seeds."""
    grid = spec.get("grid", {})
    seeds = spec.get("seeds", [spec.get("base", {}).get("seed", 123)])
    runs = []
    axes = [[dict(zip(key.split(","), v if "," in key else [v], strict=True)) for v in values]
            for key, values in grid.items()]
    for choice in itertools.product(*axes, [{"seed": s} for s in seeds]):
        point = {k: v for part in choice for k, v in part.items()}
        name = "_".join(f"{k}={_short(v)}" for k, v in point.items())
        runs.append((name, {**spec.get("base", {}), **point}))
    return runs


def _short(value) -> str:
    """Name a grid value in a run folder name: a dataset spec by its slug, else its text."""
    from semisup.data.spec import DatasetSpec

    if isinstance(value, str) and ":" in value:
        try:
            return DatasetSpec.parse(value).slug
        except ValueError:
            pass
    return str(value).replace("/", "-")


def _provenance(params: dict) -> dict:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo_root(), capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        sha = "unknown"
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {"parameters": params, "git_sha": sha, "versions": versions, "python": sys.version.split()[0]}


def _write_json(path: Path, data: dict) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(data, indent=2, default=str)))


def notebook_parameters(notebook: str | os.PathLike) -> set[str]:
    """Names assigned in the cell tagged ``parameters`` of a notebook.

    Read with :mod:`ast`: papermill's own inspection skips any line holding more than one
    ``=`` (nteract/papermill#864), so it misses every dataset-spec parameter
    (``labeled = "embedded:data/small?task=tags"``).
    """
    import nbformat

    nb = nbformat.read(str(repo_path(notebook)), as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if not cells:
        return set()
    tree = ast.parse(cells[0].source)
    return {target.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)}


class _KnownParameters(logging.Filter):
    """Drop papermill's false warnings about parameters that the notebook does declare (#864)."""

    def __init__(self, declared: set[str]):
        super().__init__()
        self.declared = declared

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Passed unknown parameter: "):
            return message.removeprefix("Passed unknown parameter: ") not in self.declared
        return not message.startswith("Unable to parse line")


@contextlib.contextmanager
def _quiet_papermill(declared: set[str]):
    """Put :class:`_KnownParameters` on papermill's loggers while the block runs.

    A filter sees only the records of the logger it is on; the parse warnings come from
    ``papermill.translators``, the unknown-parameter ones from ``papermill``.
    """
    quiet = _KnownParameters(declared)
    loggers = [logging.getLogger(name) for name in ("papermill", "papermill.translators")]
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


def execute(notebook: str | os.PathLike, output: str | os.PathLike, parameters: dict, progress: bool = True) -> None:
    """Run ``notebook`` (relative to the repository root, or absolute) with papermill into ``output``.

    The kernel works in the repository root, as ``papermill notebooks/...`` typed there does,
    so every caller (sweeps, ``make demo``, ``make results``) sees the same relative paths. It
    is the one the notebook names (``semisup``, installed inside the venv by ``make``), as
    for the plain ``papermill`` command; its progress bars are text (:mod:`semisup.progress`).
    The finished notebook is signed as trusted on this machine, as JupyterLab signs a notebook
    run in it: untrusted HTML outputs lose their audio players' sources.
    A parameter the notebook does not declare is an error naming the ones it does. The kernel
    runs with ``OMP_WAIT_POLICY=PASSIVE`` unless the environment says otherwise, and talks to
    papermill over Unix sockets (:class:`semisup.kernel.IPCKernelManager`), not TCP.
    """
    import nbformat
    import papermill  # only callers that execute notebooks pay for its import
    from nbformat.sign import NotebookNotary

    from semisup.kernel import IPCKernelManager

    declared = notebook_parameters(notebook)
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise ValueError(f"{notebook} has no parameter(s) {unknown}; it declares {sorted(declared)}")
    # The kernel inherits this: idle OpenMP threads sleep instead of spinning, so torch's
    # threads do not stall each other on a shared CPU (same results; see docs/known-issues.md).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    with _quiet_papermill(declared):
        papermill.execute_notebook(str(repo_path(notebook)), str(output), parameters=parameters,
                                   cwd=str(repo_root()), progress_bar=progress,
                                   kernel_manager_class=IPCKernelManager)
    with NotebookNotary() as notary:
        notary.sign(nbformat.read(output, as_version=4))


def run_sweep(spec: str | os.PathLike | dict, root: str | os.PathLike | None = None, progress: bool = True,
              max_points: int | None = None) -> list[Path]:
    """Execute every run of a grid with papermill; return the run folders.

    Finished runs (with ``done.json``) are skipped when they ran with the same parameters; a
    finished run whose ``params.json`` differs (say ``steps``) is an error naming the
    differences, never silently reused. A failing notebook raises after saving its partially
    executed copy in the run folder, for inspection. ``max_points`` keeps only the first runs
    of the grid (smoke tests).
    """
    spec = load_grid(spec)
    root = repo_path(root or spec.get("root", "papermill_runs")) / spec["sweep"]
    folders = []
    for name, params in expand_grid(spec)[:max_points]:
        folder = root / name
        folders.append(folder)
        if (folder / "done.json").exists():
            _check_same_parameters(folder, params)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        params = {**params, "run_dir": str(folder)}
        _write_json(folder / "params.json", _provenance(params))
        for notebook in spec["notebooks"]:
            source = repo_path(notebook)
            declared = notebook_parameters(source)  # pass each notebook its own parameters
            execute(source, folder / source.name, {k: v for k, v in params.items() if k in declared}, progress)
        _write_json(folder / "done.json", {"run": name})
    return folders


def _check_same_parameters(folder: Path, params: dict) -> None:
    """Raise ValueError when the finished run in ``folder`` ran with other parameters."""
    before = json.loads((folder / "params.json").read_text())["parameters"]
    now = json.loads(json.dumps(params))  # tuples -> lists, as params.json holds them
    differ = sorted(k for k in (set(before) | set(now)) - {"run_dir"} if before.get(k) != now.get(k))
    if differ:
        changes = ", ".join(f"{k}: {before.get(k)!r} -> {now.get(k)!r}" for k in differ)
        raise ValueError(f"{folder} is a finished run with other parameters ({changes}); "
                         f"delete that folder to rerun it, or give the sweep another root")


def aggregate(sweep_dir: str | os.PathLike, out: str | os.PathLike | None = None) -> pd.DataFrame:
    """Collect every run's ``probe_results.csv`` with its grid parameters into one tidy table.

    Runs probed with different protocols (finished runs from before the ``"crops"`` default
    beside new ones) are an error (:func:`semisup.probe.protocol_of`), never one table.

    Also writes it to ``<sweep_dir>/results.csv`` (or ``out``).
    """
    sweep_dir = repo_path(sweep_dir)
    tables = []
    for params_file in sorted(sweep_dir.glob("**/params.json")):
        results = params_file.parent / "probe_results.csv"
        if not results.exists():
            continue
        params = json.loads(params_file.read_text())["parameters"]
        table = pd.read_csv(results)
        for key, value in params.items():
            if key not in table.columns and key != "run_dir":
                table[key] = str(value) if isinstance(value, (list, dict)) else value
        table["run"] = params_file.parent.name
        table["sweep"] = params_file.parent.parent.name
        tables.append(table)
    if not tables:
        raise FileNotFoundError(f"no run under {sweep_dir} has a probe_results.csv yet: run the sweep first")
    from semisup.probe import protocol_of

    result = pd.concat(tables, ignore_index=True)
    result["protocol"] = protocol_of(result, str(sweep_dir))  # refuses runs probed with another protocol
    out = Path(out) if out else sweep_dir / "results.csv"
    atomic_write(out, lambda tmp: result.to_csv(tmp, index=False))
    return result


def main(argv: list[str] | None = None) -> None:
    """CLI: ``python -m semisup.sweep GRID.yaml`` or ``python -m semisup.sweep aggregate DIR``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "aggregate":
        parser = cli.ArgumentParser(prog="python -m semisup.sweep aggregate")
        parser.add_argument("sweep_dir")
        parser.add_argument("--out")
        args = parser.parse_args(argv[1:])
        table = aggregate(args.sweep_dir, args.out)
        print(table.to_string(max_rows=50))
        return
    parser = cli.ArgumentParser(prog="python -m semisup.sweep", description=__doc__.splitlines()[0])
    parser.add_argument("grid", help="YAML grid file")
    parser.add_argument("--root", help="runs root (default: papermill_runs/)")
    args = parser.parse_args(argv)
    for folder in run_sweep(args.grid, args.root):
        print(folder)


if __name__ == "__main__":
    cli.run(main, "python -m semisup.sweep")
