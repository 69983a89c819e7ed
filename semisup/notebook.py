"""Small helpers for notebook parameter cells (papermill passes ``-p`` values as strings)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import yaml

from semisup.paths import atomic_write, repo_path

__all__ = ["as_list", "as_spec_list", "save_figure", "save_table"]


def as_list(value, name: str) -> list:
    """Return a list parameter, accepting what a shell can pass.

    ``-p tasks tags`` gives ``"tags"``; ``-p tasks "tags,key"`` a comma-separated string;
    ``-p tasks "[tags, key]"`` a YAML list; ``-y "tasks: [tags, key]"`` a real list.

    Raises
    ------
    ValueError
        When the value is empty or not a list-like, naming the parameter.
    """
    if isinstance(value, str):
        text = value.strip()
        value = yaml.safe_load(text) if text.startswith("[") else [v.strip() for v in text.split(",") if v.strip()]
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list) or not value:
        raise ValueError(f"{name} must be a non-empty list (or a comma-separated string), got {value!r}")
    return value


def as_spec_list(value, name: str) -> list[str]:
    """Return a list of dataset specs (:mod:`semisup.data.spec`), each checked.

    As :func:`as_list`, but a comma-separated string is cut only before ``KIND:``, so a
    spec whose option holds commas (``fma:/d?extensions=.mp3,.wav``) stays whole.
    """
    from semisup.data.datasets import LOADERS
    from semisup.data.spec import DatasetSpec

    if isinstance(value, str) and not value.strip().startswith("["):
        value = [v.strip() for v in re.split(rf",\s*(?=(?:{'|'.join(LOADERS)}):)", value) if v.strip()]
    specs = as_list(value, name)
    for spec in specs:
        try:
            DatasetSpec.parse(spec)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{name}: {error}") from error
    return [str(s) for s in specs]


def save_table(table: pd.DataFrame, results_dir: str | os.PathLike, name: str) -> Path | None:
    """Write ``table`` to ``<results_dir>/<name>`` atomically; do nothing when ``results_dir`` is empty."""
    if not results_dir:
        return None
    return atomic_write(repo_path(results_dir) / name, lambda tmp: table.to_csv(tmp, index=False))


def save_figure(figure, results_dir: str | os.PathLike, name: str) -> Path | None:
    """Write a matplotlib ``figure`` as PNG to ``<results_dir>/<name>`` atomically; do nothing when it is empty."""
    if not results_dir:
        return None
    return atomic_write(repo_path(results_dir) / name, lambda tmp: figure.savefig(tmp, format="png", dpi=120))
