"""Musical keys: mir_eval names and the Krumhansl-Schmuckler key estimate.

Conventions
-----------
- Key names follow ``mir_eval.key`` with flats: ``"C major"``, ``"Db major"``, ...,
  ``"Bb minor"``; ``KEY_CLASSES`` lists the 24 keys, the 12 majors (C, Db, ..., B) then the
  12 minors, which is the class order of the ``key`` task.
- Pitch classes are integers 0-11 (0 = C).
- Key profiles are Krumhansl & Kessler's probe-tone ratings (Krumhansl, *Cognitive
  Foundations of Musical Pitch*, 1990, Table 2.1); a key estimate is the key whose rotated
  profile has the highest Pearson correlation with a pitch-class distribution
  (Krumhansl-Schmuckler algorithm).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "TONICS",
    "KEY_CLASSES",
    "key_name",
    "parse_key",
    "KK_MAJOR",
    "KK_MINOR",
    "key_profiles",
    "estimate_key",
]

TONICS: tuple[str, ...] = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
KEY_CLASSES: tuple[str, ...] = tuple(f"{t} major" for t in TONICS) + tuple(
    f"{t} minor" for t in TONICS)

KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def key_name(tonic_pc: int, mode: str) -> str:
    """Name of the key with tonic pitch class ``tonic_pc`` and ``mode`` ("major"/"minor")."""
    if mode not in ("major", "minor"):
        raise ValueError(f"mode must be 'major' or 'minor', got {mode!r}")
    return f"{TONICS[int(tonic_pc) % 12]} {mode}"


def parse_key(name: str) -> tuple[int, str]:
    """``"Db major"`` -> ``(1, "major")``; only the 24 names of ``KEY_CLASSES`` are accepted."""
    if name not in KEY_CLASSES:
        raise ValueError(f"{name!r} is not a key of KEY_CLASSES (mir_eval names with flats, "
                         f"e.g. 'Db major', 'Bb minor')")
    tonic, mode = name.split()
    return TONICS.index(tonic), mode


def key_profiles() -> np.ndarray:
    """``[24, 12]`` Krumhansl-Kessler profiles rotated to each key, rows in ``KEY_CLASSES`` order."""
    rows = [np.roll(KK_MAJOR, t) for t in range(12)] + [np.roll(KK_MINOR, t) for t in range(12)]
    return np.stack(rows)


def estimate_key(pitch_class_weights: np.ndarray) -> str:
    """Krumhansl-Schmuckler key of a ``[12]`` pitch-class distribution (durations or chroma).

    Raises
    ------
    ValueError
        If the distribution is not 12 finite non-negative numbers with a positive sum.
    """
    weights = np.asarray(pitch_class_weights, dtype=np.float64)
    if weights.shape != (12,) or not np.all(np.isfinite(weights)) or weights.min() < 0 \
            or weights.sum() <= 0:
        raise ValueError(f"pitch_class_weights must be 12 finite non-negative numbers with a "
                         f"positive sum, got {weights!r}")
    profiles = key_profiles()
    centred = profiles - profiles.mean(axis=1, keepdims=True)
    w = weights - weights.mean()
    norm = np.linalg.norm(centred, axis=1) * max(np.linalg.norm(w), 1e-12)
    return KEY_CLASSES[int(np.argmax(centred @ w / norm))]
