"""The dataset record every loader returns, the loader registry, and shared parsing helpers.

Loaders live one per dataset family beside this module and register themselves with
:func:`register` (kind, expected layout); :func:`semisup.data.datasets.load_dataset`
dispatches on the kind.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from semisup.data.keys import KEY_CLASSES as _KEY_NAMES
from semisup.data.keys import TONICS

SPLITS = ("train", "valid", "test")
TASK_TYPES = ("multiclass", "multilabel", "regression", "unlabeled")
_SPLIT_NAMES = {
    "train": "train", "training": "train",
    "valid": "valid", "val": "valid", "validation": "valid",
    "test": "test", "testing": "test",
}
KEY_CLASSES = list(_KEY_NAMES)  # the 24 mir_eval key names with flats, majors first


class DatasetError(ValueError):
    """Metadata that does not have the expected format; the message names file and columns."""


@dataclass
class AudioDataset:
    """A list of audio files with a split and (optionally) labels per file.

    Parameters
    ----------
    name : str
        Short name, e.g. ``"mtat-top50"`` or ``"embedded-notes-pitch"``.
    root : Path
        The folder the dataset was loaded from.
    paths : list of Path
        ``N`` absolute audio paths.
    split : numpy.ndarray
        ``[N]`` str, each ``"train"``, ``"valid"`` or ``"test"``.
    labels : numpy.ndarray or None
        multiclass: int64 ``[N]``; multilabel: float32 ``[N, C]`` (0/1); regression:
        float32 ``[N, K]``; None when unlabeled.
    task_type : str
        ``"multiclass"``, ``"multilabel"``, ``"regression"`` or ``"unlabeled"``.
    classes : list of str
        Class names (``C``), or target names (``K``) for regression; empty when unlabeled.
    info : dict
        Provenance: loader kind and options, counts of dropped entries, ...
    """

    name: str
    root: Path
    paths: list[Path]
    split: np.ndarray
    labels: np.ndarray | None
    task_type: str
    classes: list[str]
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        self.root = Path(self.root)
        self.paths = [Path(p) for p in self.paths]
        self.split = np.asarray(self.split, dtype=str).reshape(-1)
        self.classes = [str(c) for c in self.classes]
        n = len(self.paths)
        if self.task_type not in TASK_TYPES:
            raise ValueError(f"task_type must be one of {TASK_TYPES}, got {self.task_type!r}")
        if self.split.shape != (n,):
            raise ValueError(f"split must have one entry per path ({n}), got {self.split.shape}")
        unknown = sorted(set(self.split.tolist()) - set(SPLITS))
        if unknown:
            raise ValueError(f"split values must be in {SPLITS}, found {unknown}")
        self._check_labels(n)

    def _check_labels(self, n: int) -> None:
        labels, kind, n_classes = self.labels, self.task_type, len(self.classes)
        if kind == "unlabeled":
            if labels is not None:
                raise ValueError("an 'unlabeled' dataset must have labels=None")
            return
        if not isinstance(labels, np.ndarray):
            raise ValueError(f"a {kind} dataset needs labels as a numpy array, got {type(labels)}")
        if kind == "multiclass":
            if labels.dtype != np.int64 or labels.shape != (n,):
                raise ValueError(
                    f"multiclass labels must be int64 [N] = [{n}], got {labels.dtype} "
                    f"{labels.shape}"
                )
            if n and (labels.min() < 0 or labels.max() >= n_classes):
                raise ValueError(f"class indices must lie in [0, {n_classes}), got "
                                 f"[{labels.min()}, {labels.max()}]")
            return
        if labels.dtype != np.float32 or labels.shape != (n, n_classes):
            raise ValueError(
                f"{kind} labels must be float32 [N, C] = [{n}, {n_classes}], got {labels.dtype} "
                f"{labels.shape}"
            )
        if kind == "multilabel" and not np.isin(labels, (0.0, 1.0)).all():
            raise ValueError("multilabel labels must be 0 or 1")
        if kind == "regression" and not np.isfinite(labels).all():
            raise ValueError("regression targets must be finite")

    def __len__(self) -> int:
        """Return the number of clips ``N``."""
        return len(self.paths)

    def __repr__(self) -> str:
        """Summarise without listing every path."""
        sizes = ", ".join(f"{k}={v}" for k, v in self.split_sizes().items())
        return (f"AudioDataset(name={self.name!r}, task_type={self.task_type!r}, "
                f"n={len(self)} ({sizes}), n_classes={self.n_classes}, root={str(self.root)!r})")

    @property
    def n_classes(self) -> int:
        """Number of classes ``C`` (targets ``K`` for regression, 0 when unlabeled)."""
        return len(self.classes)

    def split_sizes(self) -> dict[str, int]:
        """Clips per split, in the order train, valid, test (empty splits omitted)."""
        counts = Counter(self.split.tolist())
        return {s: counts[s] for s in SPLITS if counts[s]}

    def select(self, indices: Sequence[int] | np.ndarray) -> AudioDataset:
        """Return the clips at ``indices`` (ints or a boolean mask ``[N]``), in that order."""
        index = np.asarray(indices)
        if index.dtype == bool:
            if index.shape != (len(self),):
                raise ValueError(f"a boolean mask must have shape ({len(self)},), got {index.shape}")
            index = np.flatnonzero(index)
        index = index.astype(np.int64).reshape(-1)
        if index.size and (index.min() < -len(self) or index.max() >= len(self)):
            raise IndexError(f"indices out of range for a dataset of {len(self)} clips")
        return AudioDataset(
            name=self.name,
            root=self.root,
            paths=[self.paths[i] for i in index],
            split=self.split[index],
            labels=None if self.labels is None else self.labels[index],
            task_type=self.task_type,
            classes=list(self.classes),
            info=dict(self.info),
        )

    def subset(self, split: str | Iterable[str]) -> AudioDataset:
        """Return the clips of one split (``"train"``, ``"valid"``/``"val"``, ``"test"``) or several."""
        names = [split] if isinstance(split, str) else list(split)
        wanted = {canonical_split(s, "split") for s in names}
        return self.select(np.isin(self.split, sorted(wanted)))


def canonical_split(value: str, where: str) -> str:
    """Map a native split name (``val``, ``validation`` ...) onto train/valid/test."""
    key = str(value).strip().lower()
    if key not in _SPLIT_NAMES:
        raise ValueError(f"{where}: unknown split {value!r}; use one of {SPLITS}")
    return _SPLIT_NAMES[key]



# ---------------------------------------------------------------------------------------------
# Registry, errors and shared parsing helpers
# ---------------------------------------------------------------------------------------------

LAYOUTS: dict[str, str] = {}  # kind -> what the loader expects on disk (repeated in errors)
LOADERS: dict[str, Callable[..., AudioDataset]] = {}


def register(kind: str, layout: str) -> Callable:
    """Register ``loader(root, **options) -> AudioDataset`` under ``kind`` with its disk layout."""
    def decorate(loader: Callable[..., AudioDataset]) -> Callable[..., AudioDataset]:
        LOADERS[kind] = loader
        LAYOUTS[kind] = layout
        return loader
    return decorate



def root_dir(root, kind: str) -> Path:
    """Return ``root`` as an existing absolute folder, or raise naming the expected layout."""
    if root is None or (isinstance(root, str) and not root.strip()):
        raise ValueError(f"{kind}: pass the dataset folder as root. Expected: {LAYOUTS[kind]}")
    path = Path(root).expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"{kind}: {path} is not a directory. Expected: {LAYOUTS[kind]}")
    return path


def need_file(path: Path, kind: str, what: str) -> Path:
    """Return ``path`` if it is a file, else raise naming ``what`` and the expected layout."""
    if not path.is_file():
        raise FileNotFoundError(f"{kind}: {what} not found at {path}. Expected: {LAYOUTS[kind]}")
    return path


def first_existing(candidates: Iterable[Path]) -> Path | None:
    """Return the first candidate path that exists (None if none does)."""
    return next((c for c in candidates if c.exists()), None)


def read_table(path: Path, kind: str, required: Sequence[str], sep: str = ",") -> pd.DataFrame:
    """Read a delimited table as strings; check the required columns, naming file and columns."""
    try:
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise DatasetError(f"{kind}: cannot parse {path}: {error}") from error
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        sep_name = {"\t": "tab", ",": "comma"}.get(sep, repr(sep))
        raise DatasetError(
            f"{kind}: {path} lacks column(s) {missing}; expected a {sep_name}-separated table with "
            f"columns {list(required)}, found {list(table.columns)[:8]}"
            f"{' ...' if len(table.columns) > 8 else ''}"
        )
    return table


def find_audio_dir(candidates: Sequence[Path], rel_paths: Sequence[str], kind: str,
                   option: str = "audio_dir") -> Path:
    """Pick the candidate folder under which most of the first listed audio files exist."""
    probe = list(rel_paths[:20])
    found = [sum((c / r).is_file() for r in probe) for c in candidates]
    if probe and max(found, default=0) > 0:
        return candidates[int(np.argmax(found))]
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"{kind}: none of the audio files listed in the metadata (e.g. {probe[:1]}) exist under "
        f"{tried}; pass {option}=<folder holding them>. Expected: {LAYOUTS[kind]}"
    )


def existing_mask(paths: Sequence[Path], kind: str, missing: str, source: str) -> np.ndarray:
    """Boolean mask of files that exist (one directory listing per folder, not one stat per file)."""
    if missing not in ("error", "drop"):
        raise ValueError(f"missing must be 'error' or 'drop', got {missing!r}")
    listings: dict[Path, set[str]] = {}
    mask = np.zeros(len(paths), dtype=bool)
    for i, path in enumerate(paths):
        folder = path.parent
        if folder not in listings:
            listings[folder] = set(os.listdir(folder)) if folder.is_dir() else set()
        mask[i] = path.name in listings[folder]
    n_missing = int((~mask).sum())
    if n_missing and missing == "error":
        examples = [str(p) for p, ok in zip(paths, mask, strict=True) if not ok][:3]
        raise FileNotFoundError(
            f"{kind}: {n_missing} of {len(paths)} audio files listed in {source} are missing, "
            f"e.g. {examples}; check the audio folder or pass missing='drop'"
        )
    if n_missing:
        warnings.warn(f"{kind}: dropped {n_missing} of {len(paths)} clips whose audio is missing",
                      UserWarning, stacklevel=3)
    return mask


def encode_classes(values: Sequence[str], classes: Sequence[str], kind: str,
                   source: str) -> np.ndarray:
    """Class indices int64 ``[N]`` of ``values``; an unknown value is an error naming ``source``."""
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({v for v in values if v not in index})
    if unknown:
        raise DatasetError(
            f"{kind}: {source} has label value(s) {unknown[:5]} that are not among the "
            f"{len(classes)} classes {list(classes)[:12]}{' ...' if len(classes) > 12 else ''}"
        )
    return np.array([index[v] for v in values], dtype=np.int64)


def multi_hot(tag_lists: Sequence[Sequence[str]], classes: Sequence[str], kind: str,
              source: str) -> np.ndarray:
    """Multi-hot float32 ``[N, C]`` of per-clip tag lists; an unknown tag is an error naming ``source``."""
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(tag_lists), len(classes)), dtype=np.float32)  # [N, C]
    for row, tags in enumerate(tag_lists):
        for tag in tags:
            if tag not in index:
                raise DatasetError(f"{kind}: {source} row {row}: tag {tag!r} is not a known class")
            out[row, index[tag]] = 1.0
    return out


def check_fraction(name: str, value: float) -> float:
    """Return ``value`` as a float in [0, 1), or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def stratified_split(strata: Sequence, valid_fraction: float, test_fraction: float,
                     seed: int) -> np.ndarray:
    """Seeded per-class split into train/valid/test, rounding per class (at least 1 train).

    sklearn's ``train_test_split(stratify=...)`` refuses classes with a single member and
    rounds the split sizes globally; per-class rounding keeps every class in train and gives
    GiantSteps Table 5's 198 valid tracks at 0.17. Loaders that follow the authors' global
    rounding use :func:`draw_held_out` instead.
    """
    valid_fraction = check_fraction("valid_fraction", valid_fraction)
    test_fraction = check_fraction("test_fraction", test_fraction)
    if valid_fraction + test_fraction >= 1:
        raise ValueError(f"valid_fraction + test_fraction must be < 1, got "
                         f"{valid_fraction} + {test_fraction}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5B11]))
    strata = np.asarray([str(s) for s in strata])
    out = np.full(len(strata), "train", dtype="<U5")
    for value in sorted(set(strata.tolist())):
        members = rng.permutation(np.flatnonzero(strata == value))
        n = len(members)
        n_test = min(int(round(n * test_fraction)), n - 1)
        n_valid = min(int(round(n * valid_fraction)), n - 1 - n_test)
        out[members[:n_test]] = "test"
        out[members[n_test:n_test + n_valid]] = "valid"
    return out


# Loaders whose split rule changed to give Table 5's counts, and the rule's name: they write it
# to ``info["split_rule"]``, and a prepared copy made under another rule (whose clips.csv holds
# the old splits) is refused rather than mixed (:mod:`semisup.data.datasets.prepared`).
SPLIT_RULES = {"giantsteps": "table5", "medleydb": "table5", "vocalset": "table5"}


def held_out_count(fraction: float, n: int) -> int:
    """Rows that ``fraction`` of ``n`` holds out, rounded up as sklearn's ``train_test_split``.

    ``ceil(fraction · n)``: 0.15 of 913 MedleyDB stems is 137 and 0.15 of the remaining 776 is
    117 (Table 5's 659 / 117 / 137). A tolerance keeps a share given as a ratio of counts
    (``577 / 3610``) from rounding up past the count it spells.
    """
    return min(n, math.ceil(fraction * n - 1e-9))


def draw_held_out(strata: Sequence, n_held: int, seed: int) -> np.ndarray:
    """Boolean mask ``[N]`` of exactly ``n_held`` rows drawn with sklearn's ``train_test_split``.

    The authors' splitter (``datamodule_splitter.py``) splits MedleyDB with
    ``train_test_split(test_size=0.15, stratify=instrument)``; the same call with a seeded
    ``random_state`` draws here. Stratified when sklearn can (every class has 2 members and
    both parts can hold one of each class); otherwise a plain seeded draw of ``n_held`` rows,
    so tiny fixture sets still split.
    """
    strata = np.asarray([str(s) for s in strata])
    mask = np.zeros(len(strata), dtype=bool)
    if n_held <= 0:
        return mask
    counts = Counter(strata.tolist())
    can_stratify = (min(counts.values()) >= 2 and n_held >= len(counts)
                    and len(strata) - n_held >= len(counts))
    _, held = train_test_split(np.arange(len(strata)), test_size=int(n_held),
                               random_state=int(seed) % 2**32,
                               stratify=strata if can_stratify else None)
    mask[held] = True
    return mask


_KEY_PATTERN = re.compile(r"^([A-Ga-g])\s*([#b\u266f\u266d]?)\s+(major|minor|maj|min)$", re.I)
_PITCH_CLASS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


def normalize_key(text: str) -> str | None:
    """Map a key name to mir_eval format with flats, or None when it is ambiguous.

    ``"D# minor"`` -> ``"Eb minor"``, ``"bb MAJOR"`` -> ``"Bb major"``. Alternatives
    (``"C minor / F# minor"``), ranges (``"A-A# minor"``), ``"-"`` (no key) and anything
    else that is not exactly one tonic and mode give None (REFERENCE: drop keys with "/" or "-").
    """
    match = _KEY_PATTERN.match(str(text).strip())
    if match is None:
        return None
    letter, accidental, mode = match.groups()
    pitch = _PITCH_CLASS[letter.lower()] + {"#": 1, "\u266f": 1, "b": -1, "\u266d": -1}.get(
        accidental, 0)
    mode = "major" if mode.lower().startswith("maj") else "minor"
    return f"{TONICS[pitch % 12]} {mode}"
