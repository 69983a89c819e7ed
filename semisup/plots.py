"""Figures the notebooks share: training curves, target matrices, result tables.

Each function draws on a new (or given) matplotlib axes and returns the figure, so a
notebook cell is one call; seaborn styles them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

__all__ = ["plot_training", "plot_targets", "plot_metric_lines", "plot_heatmap", "plot_scores"]


def plot_training(metrics: pd.DataFrame, smooth: int = 10):
    """Loss, contrastive-matrix sparsities and throughput of a run's ``metrics.csv``.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Columns ``step, loss, s_sl, s_smsl, clips_per_s`` (from ``semisup.train``).
    smooth : int
        Rolling-mean window in steps for the loss and throughput.
    """
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    rolling = metrics.set_index("step").rolling(smooth, min_periods=1).mean()
    axes[0].plot(metrics["step"], metrics["loss"], alpha=0.3, color="C0")
    axes[0].plot(rolling.index, rolling["loss"], color="C0")
    axes[0].set(title="SemiSupCon loss (Eq. 3)", xlabel="step")
    for column, color in (("s_sl", "C1"), ("s_smsl", "C2")):
        if metrics[column].notna().any():
            axes[1].plot(metrics["step"], 100 * metrics[column], label=column, color=color, alpha=0.8)
    axes[1].set(title="sparsity of the target (%)", xlabel="step")
    axes[1].set_ylim(top=100)  # a share: nothing lies above 100 %
    if axes[1].lines:
        axes[1].legend()
    axes[2].plot(rolling.index, rolling["clips_per_s"], color="C3")
    axes[2].set(title="throughput (clips/s)", xlabel="step")
    fig.tight_layout()
    return fig


def plot_targets(targets: dict[str, torch.Tensor], n_views: int, n_labeled: int | None = None):
    """Show target matrices side by side, one per criterion, with one shared colour bar.

    Magma colours: black = 0 (not a positive), light cream = 1 (a positive pair), shades
    between for the weighted target. ``n_labeled`` (clips, first in the batch) draws the
    labeled/unlabeled boundary, explained under each matrix so it never meets the titles.
    """
    fig, axes = plt.subplots(1, len(targets), figsize=(3.0 * len(targets) + 1.2, 3.8), squeeze=False,
                             layout="constrained")
    for ax, (title, target) in zip(axes[0], targets.items(), strict=True):
        image = ax.imshow(np.asarray(target), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        if n_labeled:
            edge = n_labeled * n_views - 0.5
            ax.axhline(edge, color="C0", linewidth=1)
            ax.axvline(edge, color="C0", linewidth=1)
        ax.set_title(title)
        ax.set_xlabel(f"view (row = clip * {n_views} + view)" +
                      ("\nblue lines: labeled clips above / left" if n_labeled else ""))
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="target (1 = positive pair)")
    return fig


def plot_metric_lines(table: pd.DataFrame, x: str, y: str = "value", hue: str | None = None,
                      paper: pd.DataFrame | None = None, title: str = "", ax=None):
    """Mean ± sd over seeds of ``y`` against ``x``; the paper's values dashed beside."""
    sns.set_theme(style="whitegrid")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    sns.lineplot(data=table, x=x, y=y, hue=hue, marker="o", errorbar="sd", ax=ax)
    if paper is not None:
        sns.lineplot(data=paper, x=x, y=y, hue=hue, marker="s", linestyle="--", ax=ax, legend=False, alpha=0.6)
        ax.text(0.01, 0.01, "dashed: paper", transform=ax.transAxes, fontsize=8)
    ax.set_title(title)
    return ax.figure


def plot_heatmap(table: pd.DataFrame, title: str = "", fmt: str = ".1f", ax=None):
    """Annotated heatmap of a (rows × columns) score table, columns normalised separately."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * table.shape[1] + 2, 0.5 * table.shape[0] + 1.5))
    centred = (table - table.mean()) / table.std(ddof=0).replace(0, 1)
    sns.heatmap(centred, annot=table, fmt=fmt, cmap="vlag", cbar=False, ax=ax)
    ax.set_title(title)
    return ax.figure


METRIC_NAMES = {"accuracy": "accuracy", "weighted": "weighted key score", "auroc": "ROC-AUC", "ap": "average precision",
                "r2": "R²"}


def plot_scores(summary: pd.DataFrame, title: str = ""):
    """One small panel per task: its headline score (bars, one per model) beside chance (dashed).

    Each panel has its own metric on its own axis, so accuracy, key score and ROC-AUC are never
    compared on one scale.

    Parameters
    ----------
    summary : pandas.DataFrame
        Rows ``task, metric, score %, chance %`` (:func:`semisup.evaluate.summary`), and a
        ``model`` column when several encoders are compared.
    title : str
        Figure title.
    """
    sns.set_theme(style="whitegrid")
    tasks = list(dict.fromkeys(summary["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(2.3 * len(tasks) + 0.5, 3.2), squeeze=False)
    models = list(dict.fromkeys(summary["model"])) if "model" in summary else [""]
    for ax, task in zip(axes[0], tasks, strict=True):
        rows = summary[summary["task"] == task]
        scores = [rows[rows["model"] == m]["score %"].mean() if m else rows["score %"].mean() for m in models]
        ax.bar(range(len(models)), scores, color=[f"C{i}" for i in range(len(models))])
        chance = rows["chance %"].iloc[0]
        if pd.notna(chance):
            ax.axhline(chance, color="0.3", linestyle="--", linewidth=1)
        ax.set_xticks(range(len(models)), models if len(models) > 1 else [""], rotation=30, ha="right")
        # chance named in the title, where a label cannot spill past the panel or hide a bar
        ax.set_title(task if pd.isna(chance) else f"{task}\nchance (dashed): {chance:.1f} %", fontsize=10)
        metric = rows["metric"].iloc[0]
        ax.set_ylabel(f"{METRIC_NAMES.get(metric, metric)} (%)")
        ax.set_ylim(0, 100)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
