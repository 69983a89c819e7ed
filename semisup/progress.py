"""Progress that survives saving: text bars under papermill, widgets only in a live notebook.

A tqdm widget in a notebook that papermill wrote (or that JupyterLab saved without its
widget state) reopens frozen at 0 % or as "Error displaying widget: model not found".
Text does not, so every bar of the package goes through :func:`progress_bar`.

Conventions
-----------
The kind of bar is decided when it is made (:func:`progress_mode`), first match wins:

1. ``SEMISUP_PROGRESS=text`` or ``SEMISUP_PROGRESS=widgets`` in the environment;
2. outside an IPython kernel (a terminal, a script): text;
3. widgets when a Jupyter server (JupyterLab, Notebook 7) started this kernel for a
   notebook: jupyter_server gives the kernels it starts ``JPY_SESSION_NAME`` (the notebook's
   path), papermill, nbclient and nbval do not. A kernel that papermill starts from inside a
   live notebook (a sweep run from ``04_ablations``) inherits the variable, so it must also
   be absent from the environment the kernel's parent process was started with;
4. otherwise (papermill, ``semisup.sweep.execute``, nbval): text.

Text bars inside a kernel go to stdout (stderr shows as a red block) and refresh at most
``NOTEBOOK_UPDATES`` times (and at most every ``NOTEBOOK_REFRESH_S`` seconds), so a saved
notebook keeps a few lines ending on the final state, however slow the steps. Each job also ends with one plain summary line (:func:`training_summary`, and
``probe_run``'s), which stays in the saved notebook whatever happened to its bar.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import psutil
from tqdm import tqdm

__all__ = ["ENV_VAR", "NOTEBOOK_REFRESH_S", "NOTEBOOK_UPDATES", "progress_mode", "progress_bar", "training_summary"]

ENV_VAR = "SEMISUP_PROGRESS"
NOTEBOOK_REFRESH_S = 5.0
NOTEBOOK_UPDATES = 20  # per bar of known length: 300 steps print every 15 steps


def _in_kernel() -> bool:
    ipython = sys.modules.get("IPython")  # a kernel has imported it; do not pay for it elsewhere
    return getattr(ipython and ipython.get_ipython(), "kernel", None) is not None


def _started_by_jupyter_server() -> bool:
    if "JPY_SESSION_NAME" not in os.environ:
        return False
    parent = psutil.Process().parent()
    try:
        return parent is not None and "JPY_SESSION_NAME" not in parent.environ()
    except psutil.Error:  # the parent's environment is unreadable (another user, gone)
        return False


def progress_mode() -> str:
    """Return ``"widgets"`` or ``"text"``: the bar this process should show (rule above)."""
    forced = os.environ.get(ENV_VAR, "")
    if forced:
        if forced not in ("text", "widgets"):
            raise ValueError(f"{ENV_VAR}={forced!r}: expected 'text' or 'widgets' (or unset for automatic)")
        return forced
    return "widgets" if _in_kernel() and _started_by_jupyter_server() else "text"


def progress_bar(iterable=None, **kwargs) -> tqdm:
    """Make a tqdm bar (same arguments as ``tqdm``) of the kind :func:`progress_mode` picks."""
    if progress_mode() == "widgets":
        from tqdm.notebook import tqdm as widget_bar

        return widget_bar(iterable, **kwargs)
    if _in_kernel():
        total = kwargs.get("total", len(iterable) if hasattr(iterable, "__len__") else None) or 0
        # maxinterval=inf: tqdm's monitor thread would otherwise reset miniters to 1 on slow steps
        kwargs = {"file": sys.stdout, "mininterval": NOTEBOOK_REFRESH_S, "maxinterval": float("inf"),
                  "miniters": max(1, total // NOTEBOOK_UPDATES), **kwargs,
                  # nested bars (models > pretraining) would move the cursor with ANSI escapes,
                  # which a saved notebook shows as stray "[A"; one line per update instead
                  "position": 0, "leave": True}
    return tqdm(iterable, **kwargs)


def training_summary(metrics_csv: str | os.PathLike, batch_size: int, last: int = 10) -> str:
    """Return one line: steps, wall time, clips/s and final loss of a run's ``metrics.csv``.

    Wall time is the sum of the logged step times (``batch_size / clips_per_s``), so it
    covers every resumed segment; the final loss is the mean of the ``last`` logged losses.
    """
    path = Path(metrics_csv)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the run has not logged a step yet")
    metrics = pd.read_csv(path)
    seconds = float((batch_size / metrics["clips_per_s"]).sum())
    tail = metrics["loss"].tail(last)
    return (f"pretraining: {len(metrics)} steps in {seconds:.0f} s ({len(metrics) * batch_size / seconds:.0f} clips/s), "
            f"final loss {tail.mean():.2f} (mean of last {len(tail)})")
