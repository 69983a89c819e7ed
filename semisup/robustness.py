"""Test-time corruptions for the robustness study (Sec. 5.3 / Figure 3, Appendix 9.4 / Figure 6).

A *suite* maps names to callables on crops ``[K, 1, L]``: ``"severity=s"`` applies the
training augmentation chain at severity ``s`` (Sec. 5.3; ``s = 0`` is clean audio) and each
novel corruption (chorus, distortion, ... from :mod:`semisup.corruptions`) applies it at one
strength. :func:`semisup.probe.probe_task` scores a clean-trained probe on each.

Conventions
-----------
- Every callable owns a ``torch.Generator`` seeded from ``seed`` and the corruption's name,
  advanced track after track in dataset order: reruns give the same corrupted audio.
- Scores come back from the probe as ``"<corruption>/<metric>"``; :func:`tidy_corruption_scores`
  splits them into ``corruption``, ``severity`` and ``metric`` columns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pandas as pd
import torch
from torch import Tensor

from semisup.augment import AugmentationChain
from semisup.corruptions import CORRUPTIONS, corrupt

__all__ = ["corruption_suite", "tidy_corruption_scores", "listen_to_corruptions"]


def _generator(seed: int, name: str) -> torch.Generator:
    offset = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
    return torch.Generator().manual_seed(seed * 1_000_003 + offset)


def corruption_suite(
    sample_rate: int,
    severities=(0, 1, 2, 3, 4),
    corruptions=(),
    strength: float = 0.5,
    seed: int = 123,
) -> dict[str, Callable[[Tensor], Tensor]]:
    """Build ``{name: fn}`` for the chain at each severity and each novel corruption.

    Parameters
    ----------
    sample_rate : int
        Rate of the crops (Hz).
    severities : iterable of int
        Chain severities in 0..4 (Sec. 5.3).
    corruptions : iterable of str
        Names from :data:`semisup.corruptions.CORRUPTIONS`.
    strength : float
        Strength in [0, 1] of every novel corruption.
    seed : int
        Seeds each corruption's generator.
    """
    unknown = sorted(set(corruptions) - set(CORRUPTIONS))
    if unknown:
        raise ValueError(f"unknown corruptions {unknown}; choose from {sorted(CORRUPTIONS)}")
    suite: dict[str, Callable[[Tensor], Tensor]] = {}
    for severity in severities:
        chain = AugmentationChain(sample_rate, severity=severity)
        generator = _generator(seed, f"severity={severity}")
        suite[f"severity={severity}"] = _tagged(lambda x, c=chain, g=generator: c(x, generator=g),
                                                f"chain:{severity}:{sample_rate}:{seed}")
    for name in corruptions:
        generator = _generator(seed, name)
        suite[name] = _tagged(lambda x, n=name, g=generator: corrupt(x, sample_rate, n, strength, generator=g),
                              f"{name}:{strength}:{sample_rate}:{seed}")
    return suite


def _tagged(fn, cache_id: str):
    """Attach the settings that determine ``fn``'s output, for the embedding cache key."""
    fn.cache_id = cache_id
    return fn


def tidy_corruption_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Split ``"<corruption>/<metric>"`` rows of :func:`semisup.probe.probe_run` into columns.

    Returns the corrupted rows with ``corruption`` (e.g. ``"severity=3"``, ``"reverb"``),
    ``severity`` (float, NaN for novel corruptions) and the plain ``metric`` name.
    """
    rows = table[table["metric"].str.contains("/", regex=False)].copy()
    parts = rows["metric"].str.split("/", n=1, expand=True)
    rows["corruption"], rows["metric"] = parts[0], parts[1]
    severity = rows["corruption"].str.extract(r"^severity=(\d)$")[0]
    rows["severity"] = pd.to_numeric(severity)
    return rows.reset_index(drop=True)


def listen_to_corruptions(path, sample_rate: int, suite: dict, names: list[str], seconds: float = 4.0) -> list:
    """Before/after players and spectrograms of ``names`` from ``suite`` on one audio file.

    Returns the :class:`semisup.listen.Comparison` objects (each displays itself).
    """
    from IPython.display import display

    from semisup.data.audio import read_audio
    from semisup.listen import render_transform

    clean = read_audio(path, sample_rate, max_samples=int(seconds * sample_rate))  # [T]
    comparisons = [render_transform(clean, sample_rate, suite[name], title=name) for name in names]
    for comparison in comparisons:
        display(comparison)
    return comparisons
