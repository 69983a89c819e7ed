"""Look at a built embedded benchmark: counts, tag co-occurrence, clips, one batch's targets.

The helpers behind ``notebooks/01_data.ipynb``; each returns a table, a figure or tensors,
so a notebook cell is one call.

Conventions
-----------
- ``root`` is a folder written by ``python -m semisup.data.embedded.build`` (``meta.json`` on top).
- Datasets are :class:`semisup.data.datasets.AudioDataset` from
  ``load_dataset("embedded", root, task=..., label=...)``.
- Tables are pandas DataFrames with split columns in the order train, valid, test.
- Target matrices are ``[M, M]`` with ``M = B * V`` (all views of a clip consecutive), built
  by :func:`semisup.loss.contrastive_target`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import soundfile as sf
import torch

from semisup.data.datasets import AudioDataset
from semisup.data.embedded.tasks import SPLITS
from semisup.listen import log_mel
from semisup.loss import contrastive_target
from semisup.paths import repo_root

__all__ = [
    "find_data_dir",
    "read_meta",
    "clips_per_split",
    "class_counts",
    "tag_cooccurrence",
    "pick_clips",
    "plot_clips",
    "batch_targets",
]


def find_data_dir(data_dir: str | os.PathLike) -> Path:
    """Resolve ``data_dir`` to a built benchmark, wherever the notebook runs from.

    An absolute path is used as is. A relative one is tried against the repository root
    (``"data/small"``), the working directory, and the ``notebooks/`` folder
    (``"../data/small"``), in that order; the first folder holding ``meta.json`` wins.

    Raises
    ------
    FileNotFoundError
        If none holds a build; the message gives the command that builds it.
    """
    path = Path(data_dir).expanduser()
    root = repo_root()
    candidates = [path] if path.is_absolute() else [root / path, Path.cwd() / path,
                                                    root / "notebooks" / path]
    for candidate in candidates:
        if (candidate / "meta.json").is_file():
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"data_dir={str(data_dir)!r} holds no built benchmark (looked for meta.json in {tried});"
        f" build it with: python -m semisup.data.embedded.build --size small --out data/small")


def read_meta(root: str | os.PathLike) -> dict:
    """Return the parsed ``meta.json`` of a build."""
    return json.loads((Path(root) / "meta.json").read_text())


def clips_per_split(meta: dict) -> pd.DataFrame:
    """Clips per task (rows) and split (columns), with the number of classes per label field."""
    rows = {}
    for task, info in meta["tasks"].items():
        row = {s: info["splits"].get(s, 0) for s in SPLITS}
        row["classes"] = ", ".join(f"{f}: {len(v['classes'])}" for f, v in info["labels"].items())
        rows[task] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def class_counts(dataset: AudioDataset) -> pd.DataFrame:
    """Clips per class (rows, in class order) and split (columns) of a labelled dataset.

    Multi-label datasets count a clip once for each of its tags.
    """
    if dataset.labels is None:
        raise ValueError(f"{dataset.name} has no labels; pick a labelled task "
                         f"(notes, key, tags, style)")
    labels = np.asarray(dataset.labels)
    one_hot = labels if labels.ndim == 2 else np.eye(len(dataset.classes))[labels]  # [N, C]
    split = np.asarray(dataset.split)
    table = pd.DataFrame({s: one_hot[split == s].sum(axis=0) for s in SPLITS
                          if (split == s).any()}, index=dataset.classes)
    return table.astype(int)


def tag_cooccurrence(dataset: AudioDataset) -> pd.DataFrame:
    """``P(column tag | row tag)`` over all clips of a multi-label dataset, ``[C, C]``."""
    if dataset.task_type != "multilabel":
        raise ValueError(f"{dataset.name} is {dataset.task_type}; co-occurrence needs tags")
    labels = np.asarray(dataset.labels, dtype=np.float64)  # [N, C]
    together = labels.T @ labels  # [C, C] clips carrying both tags
    share = together / np.maximum(np.diag(together)[:, None], 1)
    return pd.DataFrame(share, index=dataset.classes, columns=dataset.classes)


def pick_clips(dataset: AudioDataset, n: int, seed: int) -> list[int]:
    """Pick ``n`` clip indices of distinct classes when possible (first label), seeded."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(dataset))
    if dataset.labels is None:
        return sorted(order[:n].tolist())
    labels = np.asarray(dataset.labels)
    first = labels.argmax(axis=1) if labels.ndim == 2 else labels
    chosen, seen = [], set()
    for index in order:
        if first[index] not in seen:
            chosen.append(int(index))
            seen.add(first[index])
        if len(chosen) == n:
            break
    return chosen


def _label_text(dataset: AudioDataset, index: int) -> str:
    if dataset.labels is None:
        return "unlabeled"
    labels = np.asarray(dataset.labels)
    if labels.ndim == 2:
        return ", ".join(c for c, on in zip(dataset.classes, labels[index], strict=True) if on)
    return dataset.classes[int(labels[index])]


def plot_clips(dataset: AudioDataset, indices: list[int]):
    """Waveform (left) and log-mel spectrogram (right) of each chosen clip, titled by label."""
    fig, axes = plt.subplots(len(indices), 2, figsize=(12, 1.9 * len(indices)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.4]})
    for row, index in zip(axes, indices, strict=True):
        audio, rate = sf.read(dataset.paths[index], dtype="float32")
        seconds = np.arange(len(audio)) / rate
        row[0].plot(seconds, audio, linewidth=0.4)
        row[0].set(ylim=(-1, 1), xlim=(0, seconds[-1]), ylabel="amplitude")
        mel = log_mel(torch.from_numpy(audio), rate, n_mels=64)  # [64, frames] dB
        row[1].imshow(mel.numpy(), origin="lower", aspect="auto", cmap="magma",
                      vmin=float(mel.max()) - 80, extent=(0, seconds[-1], 0, mel.shape[0]))
        row[1].set(ylabel="mel band")
        row[0].set_title(f"{Path(dataset.paths[index]).stem}: {_label_text(dataset, index)}",
                         fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("time (s)")
    axes[-1, 1].set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def batch_targets(dataset: AudioDataset, batch_size: int, n_views: int,
                  seed: int) -> tuple[list[int], dict[str, torch.Tensor]]:
    """Draw one labelled batch and build its target matrix under C = 1, C = 2 and weighted.

    Returns
    -------
    indices : list of int
        The ``B`` clips drawn (train split), in batch order.
    targets : dict of str to Tensor
        ``{"C = 1": [M, M], "C = 2": [M, M], "weighted": [M, M]}``, ``M = B * n_views``.
    """
    if dataset.labels is None:
        raise ValueError(f"{dataset.name} has no labels to build supervised positives from")
    train = np.flatnonzero(np.asarray(dataset.split) == "train")
    if len(train) < batch_size:
        raise ValueError(f"batch_size={batch_size} exceeds the {len(train)} train clips")
    indices = np.random.default_rng(seed).choice(train, size=batch_size, replace=False).tolist()
    labels = torch.as_tensor(np.asarray(dataset.labels)[indices])  # [B, C] or [B]
    targets = {f"C = {c}": contrastive_target(labels, n_views, c) for c in (1, 2)}
    targets["weighted"] = contrastive_target(labels, n_views, "weighted")
    return indices, targets
