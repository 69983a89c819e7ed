"""A dataset prepared once by ``python -m semisup.data.prepare``: decoded, mono, resampled WAV.

The folder is a dataset of its own (``prepared:DIR``) with the source's labels, classes and
splits; only the audio changed (16-bit mono WAV at one sample rate, fast to seek).

Layout
------
- ``DIR/manifest.json``: ``format`` (``"semisup-prepared"``), ``version``, ``source``
  (the spec it was prepared from, ROOT made absolute), ``name``, ``task_type``, ``classes``,
  ``sample_rate``, ``n_clips``, ``n_rejected``, ``settings`` (what the preparation used:
  ``source``, ``sample_rate``, ``min_seconds``, ``silence_db``, ``subtype``,
  ``prepare_version``), ``info`` (the source loader's provenance). Written last,
  atomically: a folder without it is not (yet) a prepared dataset.
- ``DIR/clips.csv``: one row per clip: ``path`` (relative to DIR), ``split``,
  ``duration_s``, ``label`` (multiclass: class index; multilabel: ``|``-joined class
  indices, empty for none; regression: ``|``-joined floats; unlabeled: empty),
  ``source_path``, ``source_size``, ``source_mtime_ns``.
- ``DIR/rejected.csv``: ``source_path, reason`` of the sources left out (missing, empty,
  unreadable, too short, silent).
- ``DIR/audio/<h[:2]>/<h>.wav``: the clips (16-bit PCM mono); ``DIR/.prepare/``: the state
  that lets ``prepare`` resume and skip unchanged sources (settings and journals).

The loaded dataset's ``info`` is the source's (its ``subset``/``label`` included) with
``kind="prepared"``, ``source`` (the spec) and ``source_kind`` (the source's kind, which
picks the probe's Table 5 row, :func:`semisup.probe.probe_config`).
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import numpy as np

from semisup.data.datasets.base import (
    SPLIT_RULES,
    AudioDataset,
    DatasetError,
    canonical_split,
    existing_mask,
    need_file,
    read_table,
    register,
    root_dir,
)

LAYOUT = (
    "<root>/manifest.json and <root>/clips.csv (columns path, split, duration_s, label, "
    "source_path, source_size, source_mtime_ns) with audio under <root>/audio/; make it with "
    "`python -m semisup.data.prepare SPEC --out <root>`"
)
FORMAT = "semisup-prepared"
VERSION = 1
CLIP_COLUMNS = ["path", "split", "duration_s", "label", "source_path", "source_size",
                "source_mtime_ns"]


def encode_label(labels: np.ndarray | None, row: int, task_type: str) -> str:
    """Return the ``label`` cell of clip ``row`` (see the module docstring)."""
    if task_type == "unlabeled":
        return ""
    if task_type == "multiclass":
        return str(int(labels[row]))
    if task_type == "multilabel":
        return "|".join(str(i) for i in np.flatnonzero(labels[row]))
    return "|".join(repr(float(v)) for v in labels[row])


def decode_labels(cells: list[str], task_type: str, n_classes: int, source: str) -> np.ndarray | None:
    """Labels array of a dataset from its ``label`` cells (inverse of :func:`encode_label`)."""
    try:
        if task_type == "unlabeled":
            return None
        if task_type == "multiclass":
            return np.array([int(c) for c in cells], dtype=np.int64)
        if task_type == "multilabel":
            out = np.zeros((len(cells), n_classes), dtype=np.float32)  # [N, C]
            for row, cell in enumerate(cells):
                out[row, [int(i) for i in cell.split("|") if i]] = 1.0
            return out
        return np.array([[float(v) for v in c.split("|")] for c in cells], dtype=np.float32)
    except (ValueError, IndexError) as error:
        raise DatasetError(f"prepared: {source} has a label cell that is not a {task_type} label "
                           f"over {n_classes} classes ({error})") from error


def read_manifest(root: Path) -> dict:
    """Read and check ``manifest.json`` of a prepared folder."""
    path = need_file(root / "manifest.json", "prepared", "manifest.json")
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DatasetError(f"prepared: {path} is not valid JSON: {error}") from error
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DatasetError(f"prepared: {path} is not a manifest of semisup.data.prepare "
                           f"(format {meta.get('format') if isinstance(meta, dict) else None!r})")
    if meta.get("version") != VERSION:
        raise DatasetError(f"prepared: {path} has version {meta.get('version')!r}; this semisup "
                           f"reads version {VERSION}: prepare the dataset again")
    return meta


@register("prepared", LAYOUT)
def load(root, missing: str = "error") -> AudioDataset:
    """Load a prepared dataset: the source's labels, classes and splits over prepared WAV files."""
    kind = "prepared"
    root = root_dir(root, kind)
    meta = read_manifest(root)
    source = root / "clips.csv"
    table = read_table(need_file(source, kind, "clips.csv"), kind, CLIP_COLUMNS)
    if len(table) != meta.get("n_clips"):
        raise DatasetError(f"prepared: {source} has {len(table)} rows but manifest.json says "
                           f"{meta.get('n_clips')}: prepare the dataset again")
    task_type, classes = meta["task_type"], list(meta.get("classes") or [])
    source_info = meta.get("info") or {}
    source_kind = source_info.get("source_kind", source_info.get("kind"))
    if source_info.get("split_rule") != SPLIT_RULES.get(source_kind, source_info.get("split_rule")):
        raise DatasetError(
            f"prepared: {root} holds the splits of {meta.get('source')!r} under an older {source_kind} "
            f"split rule, not Table 5's; run python -m semisup.data.prepare {meta.get('source')!r} "
            f"--out {root} again (the audio is reused, clips.csv gets the current splits)")
    dataset = AudioDataset(
        name=str(meta.get("name", root.name)), root=root,
        paths=[root / PurePosixPath(p) for p in table["path"]],
        split=[canonical_split(s, str(source)) for s in table["split"]],
        labels=decode_labels(table["label"].tolist(), task_type, len(classes), str(source)),
        task_type=task_type, classes=classes,
        info={**source_info, "kind": kind, "source": meta.get("source"),
              "source_kind": source_kind,
              "sample_rate": meta.get("sample_rate"), "n_rejected": meta.get("n_rejected")},
    )
    keep = existing_mask(dataset.paths, kind, missing, str(source))
    return dataset if keep.all() else dataset.select(keep)
