"""Dataset loaders: the embedded benchmark and the real datasets of Sec. 4.1 in their native layouts.

Every loader returns one :class:`AudioDataset` (absolute audio paths, a split per clip,
labels, task type, class names). ``load_dataset(kind, root, **options)`` dispatches on
``kind``; :data:`LAYOUTS` says what each loader expects on disk, and every error about a
missing folder, file or column repeats it.

Conventions
-----------
- Splits are ``"train"``, ``"valid"``, ``"test"`` (native names such as ``val``,
  ``validation``, ``evaluation`` are mapped onto these).
- Labels: multiclass -> int64 ``[N]`` class indices; multilabel -> float32 ``[N, C]`` 0/1
  (an all-zero row is a clip with none of the classes, e.g. MTAT "all" has such clips);
  regression -> float32 ``[N, K]`` with ``classes`` naming the ``K`` targets; unlabeled ->
  ``None``. ``classes[i]`` names column / index ``i``.
- Keys are in mir_eval format with flats (``"Eb minor"``), 24 classes: the 12 majors from C,
  then the 12 minors from C.
- Splits drawn at random (GiantSteps valid, VocalSet singer, MedleyDB) are stratified by
  class and seeded (``seed`` option), so the same files always land in the same split.
- Missing audio files are an error (``missing="error"``) or dropped with a warning
  (``missing="drop"``); corrupt files are the audio layer's job (``skip_bad`` in the sampler).
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import json
import os
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import yaml

from semisup.data.keys import KEY_CLASSES as _KEY_NAMES
from semisup.data.keys import TONICS

__all__ = [
    "AudioDataset",
    "DatasetError",
    "load_dataset",
    "LAYOUTS",
    "SPLITS",
    "TASK_TYPES",
    "KEY_CLASSES",
    "normalize_key",
]

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
        wanted = {_canonical_split(s, "split") for s in names}
        return self.select(np.isin(self.split, sorted(wanted)))


def _canonical_split(value: str, where: str) -> str:
    key = str(value).strip().lower()
    if key not in _SPLIT_NAMES:
        raise ValueError(f"{where}: unknown split {value!r}; use one of {SPLITS}")
    return _SPLIT_NAMES[key]


# ---------------------------------------------------------------------------------------------
# Layouts, errors and shared parsing helpers
# ---------------------------------------------------------------------------------------------

LAYOUTS = {
    "embedded": "<root>/meta.json and <root>/<task>/manifest.csv (columns path, split, "
                "duration_s, <label field>) with audio at <root>/<task>/<path>; build it with "
                "`python -m semisup.data.build --size small --out data/small`",
    "mtat": "<root>/annotations_final.csv (tab-separated: clip_id, 188 tag columns, mp3_path) "
            "and the audio folders 0/ ... f/ under <root> or <root>/mp3 (option audio_dir)",
    "nsynth": "<root>/nsynth-{train,valid,test}/examples.json with audio at "
              "<root>/nsynth-<split>/audio/<note_str>.wav",
    "giantsteps": "<root>/giantsteps-mtg-key-dataset/annotations/annotations.txt + audio/<ID>.LOFI.mp3 "
                  "(train) and <root>/giantsteps-key-dataset/annotations/key/<id>.LOFI.key + "
                  "audio/<id>.LOFI.mp3 (test); options mtg_dir, key_dir",
    "gtzan": "<root>/genres/<genre>/<genre>.000NN.wav (or <root>/genres_original/..., or "
             "<root>/<genre>/...); fault-filtered split lists from torchaudio, or option "
             "split_dir with train_filtered.txt, valid_filtered.txt, test_filtered.txt",
    "jamendo": "<root>/data/splits/split-0/autotagging_<subset>-{train,validation,test}.tsv "
               "(columns TRACK_ID, ARTIST_ID, ALBUM_ID, PATH, DURATION, TAGS...) and audio "
               "<root>/mp3/<PATH> (option audio_dir)",
    "fma": "audio files <root>/fma_medium/NNN/NNNNNN.mp3 (or <root>/NNN/NNNNNN.mp3); optional "
           "<root>/fma_metadata/tracks.csv (option tracks_csv) for the official split",
    "vocalset": "<root>/data_by_singer/<female1|male1...>/<context>/<technique>/<file>.wav; "
                "for label='technique' also <root>/train_singers_technique.txt and "
                "<root>/test_singers_technique.txt",
    "medleydb": "<root>/Metadata/<Song>_METADATA.yaml and <root>/Audio/<Song>/<Song>_STEMS/"
                "<stem file>.wav (options metadata_dir, audio_dir)",
    "emomusic": "<root>/songs_info.csv, <root>/static_annotations.csv (or under "
                "<root>/annotations/) and <root>/clips_45seconds/<song_id>.mp3",
}


def _root_dir(root, kind: str) -> Path:
    if root is None or (isinstance(root, str) and not root.strip()):
        raise ValueError(f"{kind}: pass the dataset folder as root. Expected: {LAYOUTS[kind]}")
    path = Path(root).expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"{kind}: {path} is not a directory. Expected: {LAYOUTS[kind]}")
    return path


def _need_file(path: Path, kind: str, what: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{kind}: {what} not found at {path}. Expected: {LAYOUTS[kind]}")
    return path


def _first_existing(candidates: Iterable[Path]) -> Path | None:
    return next((c for c in candidates if c.exists()), None)


def _read_csv(path: Path, kind: str, required: Sequence[str], sep: str = ",") -> pd.DataFrame:
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


def _audio_dir(candidates: Sequence[Path], rel_paths: Sequence[str], kind: str,
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


def _existing(paths: Sequence[Path], kind: str, missing: str, source: str) -> np.ndarray:
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


def _encode_classes(values: Sequence[str], classes: Sequence[str], kind: str,
                    source: str) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({v for v in values if v not in index})
    if unknown:
        raise DatasetError(
            f"{kind}: {source} has label value(s) {unknown[:5]} that are not among the "
            f"{len(classes)} classes {list(classes)[:12]}{' ...' if len(classes) > 12 else ''}"
        )
    return np.array([index[v] for v in values], dtype=np.int64)


def _multi_hot(tag_lists: Sequence[Sequence[str]], classes: Sequence[str], kind: str,
               source: str) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(tag_lists), len(classes)), dtype=np.float32)  # [N, C]
    for row, tags in enumerate(tag_lists):
        for tag in tags:
            if tag not in index:
                raise DatasetError(f"{kind}: {source} row {row}: tag {tag!r} is not a known class")
            out[row, index[tag]] = 1.0
    return out


def _check_fraction(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _stratified_split(strata: Sequence, valid_fraction: float, test_fraction: float,
                      seed: int) -> np.ndarray:
    """Seeded per-class split into train/valid/test, rounding per class (at least 1 train).

    sklearn's ``train_test_split(stratify=...)`` refuses classes with a single member and
    rounds the split sizes globally; small classes (rare MedleyDB instruments) need per-class
    rounding, so the split is drawn here.
    """
    valid_fraction = _check_fraction("valid_fraction", valid_fraction)
    test_fraction = _check_fraction("test_fraction", test_fraction)
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


# ---------------------------------------------------------------------------------------------
# Loaders
# ---------------------------------------------------------------------------------------------


def _load_embedded(root, task: str | None = None, label: str | None = None,
                   missing: str = "error") -> AudioDataset:
    """Embedded benchmark built by ``semisup.data.build`` (meta.json + manifest.csv per task).

    ``label`` picks a label field of the task (default: the task's ``default_label``); a task
    without label fields (``unlabeled``) gives an unlabeled dataset.
    """
    kind = "embedded"
    root = _root_dir(root, kind)
    meta_path = _need_file(root / "meta.json", kind, "meta.json")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as error:
        raise DatasetError(f"{kind}: {meta_path} is not valid JSON: {error}") from error
    tasks = meta.get("tasks") if isinstance(meta, dict) else None
    if not isinstance(tasks, dict) or not tasks:
        raise DatasetError(f"{kind}: {meta_path} has no 'tasks' mapping; expected "
                           f'{{"tasks": {{"<task>": {{"labels": ..., "default_label": ...}}}}}}')
    if task not in tasks:
        raise ValueError(f"{kind}: task={task!r} is not in {meta_path}; available: {sorted(tasks)}")
    spec = tasks[task]
    fields = spec.get("labels") or {}
    label = spec.get("default_label") if label is None else label
    if label is not None and label not in fields:
        raise ValueError(f"{kind}: task {task!r} has no label field {label!r}; available: "
                         f"{sorted(fields)}")
    manifest = _need_file(root / task / "manifest.csv", kind, f"manifest of task {task!r}")
    required = ["path", "split", "duration_s"] + ([label] if label else [])
    table = _read_csv(manifest, kind, required)
    paths = [root / task / PurePosixPath(p) for p in table["path"]]
    split = [_canonical_split(s, str(manifest)) for s in table["split"]]
    labels, task_type, classes = None, "unlabeled", []
    if label is not None:
        spec_field = fields[label]
        task_type, classes = spec_field.get("type"), list(spec_field.get("classes") or [])
        if task_type not in ("multiclass", "multilabel") or not classes:
            raise DatasetError(f"{kind}: {meta_path} tasks.{task}.labels.{label} needs 'type' "
                               f"multiclass|multilabel and a non-empty 'classes' list")
        values = table[label].tolist()
        if task_type == "multiclass":
            labels = _encode_classes(values, classes, kind, f"{manifest} column {label!r}")
        else:
            tag_lists = [[t for t in v.split("|") if t] for v in values]
            labels = _multi_hot(tag_lists, classes, kind, f"{manifest} column {label!r}")
    keep = _existing(paths, kind, missing, str(manifest))
    dataset = AudioDataset(
        name=f"embedded-{task}" + (f"-{label}" if label else ""), root=root, paths=paths,
        split=split, labels=labels, task_type=task_type, classes=classes,
        info={"kind": kind, "task": task, "label": label, "sample_rate": meta.get("sample_rate")},
    )
    return dataset if keep.all() else dataset.select(keep)


_MTAT_SPLIT = {"c": "valid", "d": "test", "e": "test", "f": "test"}


def _load_mtat(root, subset: str = "top50", audio_dir=None, audio_ext: str | None = None,
               missing: str = "error") -> AudioDataset:
    """MagnaTagATune, multilabel (Sec. 4.1, Table 5).

    ``subset="top50"``: the 50 most frequent tags over the whole file (ties broken by column
    order), classes ordered by frequency; clips with none of them are dropped (Table 5:
    15 250 / 1 529 / 4 332). ``subset="all"``: every tag column of the file, every clip.
    Split by the first folder of ``mp3_path`` (canonical 12:3:1): ``c`` -> valid,
    ``d``, ``e``, ``f`` -> test, ``0``-``9``, ``a``, ``b`` -> train. ``audio_ext`` (e.g.
    ``"wav"``) replaces the extension for converted copies.
    """
    kind = "mtat"
    if subset not in ("top50", "all"):
        raise ValueError(f"{kind}: subset must be 'top50' or 'all', got {subset!r}")
    root = _root_dir(root, kind)
    source = _need_file(root / "annotations_final.csv", kind, "annotations_final.csv")
    table = _read_csv(source, kind, ["clip_id", "mp3_path"], sep="\t")
    tag_columns = [c for c in table.columns if c not in ("clip_id", "mp3_path")]
    if not tag_columns:
        raise DatasetError(f"{kind}: {source} has no tag columns between clip_id and mp3_path")
    tags = table[tag_columns]
    bad = [c for c in tag_columns if not tags[c].isin(["0", "1"]).all()]
    if bad:
        raise DatasetError(f"{kind}: {source} tag column(s) {bad[:3]} hold values other than 0/1")
    multi_hot = tags.to_numpy(dtype=np.float32)  # [N, 188]
    if subset == "top50":
        order = np.argsort(-multi_hot.sum(axis=0), kind="stable")[:50]
        multi_hot = multi_hot[:, order]
        classes = [tag_columns[i] for i in order]
        keep_rows = multi_hot.any(axis=1)
    else:
        classes = tag_columns
        keep_rows = np.ones(len(table), dtype=bool)
    rel = table["mp3_path"].str.strip()
    folders = rel.str.split("/").str[0]
    odd = sorted(set(folders) - set("0123456789abcdef"))
    if odd:
        raise DatasetError(f"{kind}: {source} mp3_path must start with a folder 0-9 or a-f "
                           f"(canonical split); found {odd[:3]}")
    split = folders.map(lambda f: _MTAT_SPLIT.get(f, "train")).to_numpy()
    if audio_ext is not None:
        rel = rel.map(lambda p: str(PurePosixPath(p).with_suffix("." + audio_ext.lstrip("."))))
    rel = rel.tolist()
    candidates = [Path(audio_dir).expanduser()] if audio_dir else [root, root / "mp3",
                                                                   root / "audio"]
    base = _audio_dir(candidates, [r for r, k in zip(rel, keep_rows, strict=True) if k], kind)
    dataset = AudioDataset(
        name=f"mtat-{subset}", root=root, paths=[base / PurePosixPath(r) for r in rel],
        split=split, labels=multi_hot, task_type="multilabel", classes=classes,
        info={"kind": kind, "subset": subset, "audio_dir": str(base),
              "dropped_without_tags": int((~keep_rows).sum())},
    )
    dataset = dataset.select(keep_rows)
    keep = _existing(dataset.paths, kind, missing, str(source))
    return dataset if keep.all() else dataset.select(keep)


# NSynth's fixed vocabularies (instrument_family / instrument_source ids of the dataset card).
NSYNTH_FAMILIES = ["bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed",
                   "string", "synth_lead", "vocal"]
NSYNTH_SOURCES = ["acoustic", "electronic", "synthetic"]


def _load_nsynth(root, label: str = "pitch", missing: str = "error") -> AudioDataset:
    """NSynth notes (4 s, 16 kHz), multiclass, official train/valid/test folders.

    ``label``: ``"pitch"`` (MIDI number; classes = the sorted pitches present, 112 = MIDI
    9-120 on the full dataset, Table 5), ``"family"`` (``instrument_family``, the 11 families
    of the dataset card), ``"source"`` (acoustic/electronic/synthetic). ``"instrument"`` is
    an alias of ``"family"``: the paper's "NSynth Inst." task is instrument family in the
    authors' code (``nsynth_instr_family``); NSynth's per-note instrument ids are disjoint
    between train and test, so they cannot be classes. (Table 5 prints 24 classes for it,
    which matches neither.)
    """
    kind = "nsynth"
    fields = {"pitch": "pitch", "family": "instrument_family", "instrument": "instrument_family",
              "source": "instrument_source"}
    if label not in fields:
        raise ValueError(f"{kind}: label must be one of {sorted(fields)}, got {label!r}")
    key = fields[label]
    root = _root_dir(root, kind)
    notes, values, split = [], [], []
    found = []
    for split_name in ("train", "valid", "test"):
        source = root / f"nsynth-{split_name}" / "examples.json"
        if not source.is_file():
            continue
        found.append(split_name)
        try:
            examples = json.loads(source.read_text())
        except json.JSONDecodeError as error:
            raise DatasetError(f"{kind}: {source} is not valid JSON: {error}") from error
        if not isinstance(examples, dict):
            raise DatasetError(f"{kind}: {source} must map note_str -> note attributes")
        for note_str in sorted(examples):
            example = examples[note_str]
            if not isinstance(example, dict) or key not in example:
                raise DatasetError(f"{kind}: {source} entry {note_str!r} lacks the field {key!r} "
                                   f"(expected keys note_str, pitch, instrument_family, ...)")
            notes.append(root / f"nsynth-{split_name}" / "audio" / f"{note_str}.wav")
            values.append(int(example[key]))
            split.append(split_name)
    if not found:
        raise FileNotFoundError(f"{kind}: no nsynth-<split>/examples.json under {root}. "
                                f"Expected: {LAYOUTS[kind]}")
    values = np.asarray(values, dtype=np.int64)
    if key == "pitch":
        classes = [str(p) for p in sorted(set(values.tolist()))]
        labels = np.searchsorted(np.array(sorted(set(values.tolist()))), values).astype(np.int64)
    else:
        classes = NSYNTH_FAMILIES if key == "instrument_family" else NSYNTH_SOURCES
        if values.size and (values.min() < 0 or values.max() >= len(classes)):
            raise DatasetError(f"{kind}: {key} ids must be in [0, {len(classes)}), found "
                               f"[{values.min()}, {values.max()}]")
        labels = values
    name = "family" if label == "instrument" else label
    dataset = AudioDataset(
        name=f"nsynth-{name}", root=root, paths=notes, split=split, labels=labels,
        task_type="multiclass", classes=classes,
        info={"kind": kind, "label": name, "splits_found": found},
    )
    keep = _existing(dataset.paths, kind, missing, "examples.json")
    return dataset if keep.all() else dataset.select(keep)


def _read_key_file(path: Path) -> str | None:
    """Return the key of one giantsteps ``.key`` file (None if ambiguous).

    Files hold a plain ``"Eb minor"`` or the tab-separated ``key <time> <key> [confidence]
    [comment]`` format under a ``#@format`` header.
    """
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) >= 3 and fields[0].strip().lower() == "key":
            return normalize_key(fields[2])
        return normalize_key(line)
    return None


def _load_giantsteps(root, mtg_dir=None, key_dir=None, valid_fraction: float = 0.1,
                     seed: int = 0, missing: str = "error") -> AudioDataset:
    """GiantSteps key, 24-class multiclass (mir_eval keys with flats).

    Train: giantsteps-mtg-key-dataset ``annotations.txt`` (tab-separated ``ID``,
    ``MANUAL KEY``, ``C``), keeping confidence ``C == 2`` and single keys (alternatives
    with "/" or ranges with "-" dropped); a seeded, key-stratified ``valid_fraction`` of it is
    the validation split. Test: the original giantsteps-key-dataset ``.key`` files (604
    tracks). This is Table 5's arrangement (961 / 198 / 604) and the authors' code; the
    paper's prose (Sec. 4.1) states the two sets the other way round.
    """
    kind = "giantsteps"
    root = _root_dir(root, kind)
    mtg = Path(mtg_dir).expanduser() if mtg_dir else root / "giantsteps-mtg-key-dataset"
    orig = Path(key_dir).expanduser() if key_dir else root / "giantsteps-key-dataset"
    source = _need_file(mtg / "annotations" / "annotations.txt", kind, "MTG key annotations")
    table = _read_csv(source, kind, ["ID", "MANUAL KEY", "C"], sep="\t")
    confident = table["C"].str.strip() == "2"
    keys = table["MANUAL KEY"].map(normalize_key)
    usable = confident & keys.notna()
    train_ids = table.loc[usable, "ID"].str.strip().tolist()
    train_keys = keys[usable].tolist()
    key_folder = orig / "annotations" / "key"
    if not key_folder.is_dir():
        raise FileNotFoundError(f"{kind}: {key_folder} not found. Expected: {LAYOUTS[kind]}")
    key_files = sorted(key_folder.glob("*.key"))
    test_keys = [_read_key_file(p) for p in key_files]
    test_ok = [k is not None for k in test_keys]
    if not any(test_ok):
        raise DatasetError(f"{kind}: no readable key in {key_folder}/*.key (expected e.g. 'Eb minor')")
    paths = [mtg / "audio" / f"{i}.LOFI.mp3" for i in train_ids]
    paths += [orig / "audio" / f"{p.stem}.mp3" for p, ok in zip(key_files, test_ok, strict=True) if ok]
    split = list(_stratified_split(train_keys, valid_fraction, 0.0, seed))
    split += ["test"] * sum(test_ok)
    values = train_keys + [k for k in test_keys if k is not None]
    dataset = AudioDataset(
        name="giantsteps-key", root=root, paths=paths, split=split,
        labels=_encode_classes(values, KEY_CLASSES, kind, str(source)), task_type="multiclass",
        classes=KEY_CLASSES,
        info={"kind": kind, "dropped_low_confidence": int((~confident).sum()),
              "dropped_ambiguous": int((confident & keys.isna()).sum()),
              "dropped_test_unreadable": len(test_ok) - sum(test_ok), "seed": seed},
    )
    keep = _existing(dataset.paths, kind, missing, f"{source} and {key_folder}")
    return dataset if keep.all() else dataset.select(keep)


GTZAN_GENRES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop",
                "reggae", "rock"]


def _gtzan_lists(split_dir) -> dict[str, list[str]]:
    """File ids (``"blues.00029"``) of the fault-filtered split, per split."""
    if split_dir is None:
        # torchaudio ships the fault-filtered split (Kereliuk et al. / Sturm; the lists of
        # jordipons/sklearn-audio-transfer-learning): 443 / 197 / 290 files, as Table 5.
        from torchaudio.datasets import gtzan

        return {"train": list(gtzan.filtered_train), "valid": list(gtzan.filtered_valid),
                "test": list(gtzan.filtered_test)}
    folder = Path(split_dir).expanduser()
    lists = {}
    for split_name, file_name in (("train", "train_filtered.txt"), ("valid", "valid_filtered.txt"),
                                  ("test", "test_filtered.txt")):
        path = _need_file(folder / file_name, "gtzan", f"split list {file_name}")
        entries = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
        # Entries may read "blues/blues.00029.wav", "blues.00029.au" or "blues.00029".
        lists[split_name] = [re.sub(r"\.(wav|au)$", "", PurePosixPath(e).name) for e in entries]
    return lists


def _load_gtzan(root, split_dir=None, missing: str = "error") -> AudioDataset:
    """GTZAN genre, 10-class multiclass, fault-filtered split (Sec. 4.1, [46, 47]).

    The split lists come from ``torchaudio.datasets.gtzan`` (``filtered_train`` ...), or
    from ``split_dir`` holding ``train_filtered.txt``, ``valid_filtered.txt``,
    ``test_filtered.txt`` (one file per line, e.g. ``blues/blues.00029.wav``). Genre = the
    file id's prefix (= its folder); ``.wav`` or the original ``.au`` files are found.
    """
    kind = "gtzan"
    root = _root_dir(root, kind)
    base = _first_existing(d for d in (root / "genres", root / "genres_original", root)
                           if (d / "blues").is_dir())
    if base is None:
        raise FileNotFoundError(f"{kind}: no genre folders (blues/, classical/, ...) under {root}. "
                                f"Expected: {LAYOUTS[kind]}")
    lists = _gtzan_lists(split_dir)
    ids, split = [], []
    for split_name in SPLITS:
        ids += lists[split_name]
        split += [split_name] * len(lists[split_name])
    genres = [i.split(".")[0] for i in ids]
    labels = _encode_classes(genres, GTZAN_GENRES, kind, "the split lists")
    ext = ".au" if (base / "blues" / f"{ids[0]}.au").is_file() else ".wav"
    dataset = AudioDataset(
        name="gtzan-genre", root=root, paths=[base / g / f"{i}{ext}" for g, i in zip(genres, ids,
                                                                                    strict=True)],
        split=split, labels=labels, task_type="multiclass", classes=GTZAN_GENRES,
        info={"kind": kind, "split_lists": "torchaudio" if split_dir is None else str(split_dir)},
    )
    keep = _existing(dataset.paths, kind, missing, "the fault-filtered split lists")
    return dataset if keep.all() else dataset.select(keep)


_JAMENDO_SUBSETS = {"top50": "top50tags", "top50tags": "top50tags", "genre": "genre",
                    "instrument": "instrument", "moodtheme": "moodtheme", "mood": "moodtheme"}
_JAMENDO_HEADER = ["TRACK_ID", "ARTIST_ID", "ALBUM_ID", "PATH", "DURATION", "TAGS"]


def _read_jamendo_tsv(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = path.read_text().splitlines()
    header = lines[0].split("\t") if lines else []
    if [h.strip() for h in header[:6]] != _JAMENDO_HEADER:
        raise DatasetError(f"jamendo: {path} must start with the header {_JAMENDO_HEADER} "
                           f"(tab-separated), found {header[:6]}")
    rel, tags = [], []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 6:
            raise DatasetError(f"jamendo: {path} line {number} has {len(fields)} tab-separated "
                               f"fields; expected TRACK_ID, ARTIST_ID, ALBUM_ID, PATH, DURATION, "
                               f"then one or more tags")
        rel.append(fields[3].strip())
        tags.append([t.strip() for t in fields[5:] if t.strip()])
    return rel, tags


def _load_jamendo(root, subset: str = "top50", split_index: int = 0, audio_dir=None,
                  missing: str = "error") -> AudioDataset:
    """MTG-Jamendo auto-tagging, multilabel, official split ``split_index`` (split-0 in the paper).

    ``subset``: ``"top50"``, ``"genre"``, ``"instrument"`` or ``"moodtheme"`` (``"mood"``).
    Classes are the tags found in the three files (e.g. ``"genre---rock"``), sorted. Audio
    ``<audio_dir>/<PATH>``; the low-quality copies (``.low.mp3``) are found too.
    """
    kind = "jamendo"
    if subset not in _JAMENDO_SUBSETS:
        raise ValueError(f"{kind}: subset must be one of {sorted(_JAMENDO_SUBSETS)}, got {subset!r}")
    root = _root_dir(root, kind)
    stem = f"autotagging_{_JAMENDO_SUBSETS[subset]}"
    folder_name = f"split-{int(split_index)}"
    split_folder = _first_existing(
        d for d in (root / "data" / "splits" / folder_name, root / "splits" / folder_name,
                    root / folder_name, root) if (d / f"{stem}-train.tsv").is_file()
    )
    if split_folder is None:
        raise FileNotFoundError(f"{kind}: {stem}-train.tsv not found under {root} "
                                f"(looked in data/splits/{folder_name}, splits/{folder_name}, "
                                f"{folder_name}, .). Expected: {LAYOUTS[kind]}")
    rel, tag_lists, split = [], [], []
    for split_name, file_split in (("train", "train"), ("valid", "validation"), ("test", "test")):
        path = _need_file(split_folder / f"{stem}-{file_split}.tsv", kind, f"{stem}-{file_split}.tsv")
        r, t = _read_jamendo_tsv(path)
        rel += r
        tag_lists += t
        split += [split_name] * len(r)
    classes = sorted({t for tags in tag_lists for t in tags})
    candidates = [Path(audio_dir).expanduser()] if audio_dir else [
        root / "mp3", root / "audio", root / "raw_30s" / "audio", root]
    try:
        base = _audio_dir(candidates, rel, kind)
    except FileNotFoundError:
        rel = [re.sub(r"\.mp3$", ".low.mp3", r) for r in rel]
        base = _audio_dir(candidates, rel, kind)
    dataset = AudioDataset(
        name=f"jamendo-{_JAMENDO_SUBSETS[subset]}", root=root,
        paths=[base / PurePosixPath(r) for r in rel], split=split,
        labels=_multi_hot(tag_lists, classes, kind, str(split_folder)), task_type="multilabel",
        classes=classes, info={"kind": kind, "subset": subset, "split_index": int(split_index),
                               "audio_dir": str(base)},
    )
    keep = _existing(dataset.paths, kind, missing, str(split_folder))
    return dataset if keep.all() else dataset.select(keep)


_FMA_SPLIT = {"training": "train", "validation": "valid", "test": "test"}


def _load_fma(root, tracks_csv=None, extensions: Sequence[str] = (".mp3",)) -> AudioDataset:
    """FMA audio as an unlabeled pool (Sec. 4.1 uses fma_medium, labels unused).

    Every file with one of ``extensions`` under ``<root>/fma_medium`` (or ``<root>``) is a
    clip, sorted by path. With ``tracks_csv`` (or ``<root>/fma_metadata/tracks.csv``), the
    official ``set/split`` column gives train/valid/test; otherwise every clip is train.
    """
    kind = "fma"
    root = _root_dir(root, kind)
    suffixes = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
    base = _first_existing(d for d in (root / "fma_medium", root / "fma_large",
                                       root / "fma_small", root / "fma_full") if d.is_dir()) or root
    paths = sorted(p for p in base.rglob("*") if p.suffix.lower() in suffixes and p.is_file())
    if not paths:
        raise FileNotFoundError(f"{kind}: no audio files ({sorted(suffixes)}) under {base}. "
                                f"Expected: {LAYOUTS[kind]}")
    csv_path = Path(tracks_csv).expanduser() if tracks_csv else root / "fma_metadata" / "tracks.csv"
    split = np.full(len(paths), "train", dtype="<U5")
    if tracks_csv or csv_path.is_file():
        _need_file(csv_path, kind, "tracks.csv")
        try:
            tracks = pd.read_csv(csv_path, index_col=0, header=[0, 1], low_memory=False)
        except (pd.errors.ParserError, ValueError) as error:
            raise DatasetError(f"{kind}: cannot parse {csv_path}: {error}") from error
        if ("set", "split") not in tracks.columns:
            raise DatasetError(f"{kind}: {csv_path} lacks the ('set', 'split') column of FMA's "
                               f"two-row header")
        official = tracks[("set", "split")].map(_FMA_SPLIT)
        ids = [int(p.stem) if p.stem.isdigit() else -1 for p in paths]
        unknown = [p for p, i in zip(paths, ids, strict=True) if i not in official.index]
        if unknown:
            raise DatasetError(f"{kind}: {len(unknown)} audio files have no row in {csv_path}, "
                               f"e.g. {unknown[0]}")
        split = official.loc[ids].fillna("train").to_numpy(dtype=str)
    return AudioDataset(name="fma", root=root, paths=paths, split=split, labels=None,
                        task_type="unlabeled", classes=[],
                        info={"kind": kind, "audio_dir": str(base)})


_SINGER = re.compile(r"^(female|male|f|m)(\d+)$", re.I)


def _singer_id(name: str) -> str | None:
    match = _SINGER.match(name.strip())
    return None if match is None else f"{match.group(1)[0].lower()}{int(match.group(2))}"


def _load_vocalset(root, label: str = "singer", valid_fraction: float = 0.1,
                   test_fraction: float = 0.1, seed: int = 0, missing: str = "error") -> AudioDataset:
    """VocalSet, multiclass: ``label="singer"`` (20 singers) or ``"technique"`` (17).

    Files under ``data_by_singer/<female1|male1...>/<context>/<technique>/``. Singer: seeded
    per-singer random split (``valid_fraction``/``test_fraction`` of each singer's files, the
    authors' 80/10/10). Technique: the singer-disjoint split of ``train_singers_technique.txt``
    / ``test_singers_technique.txt`` (files of singers in neither are dropped); valid is a
    seeded, technique-stratified ``valid_fraction`` of train.
    """
    kind = "vocalset"
    if label not in ("singer", "technique"):
        raise ValueError(f"{kind}: label must be 'singer' or 'technique', got {label!r}")
    root = _root_dir(root, kind)
    base = _first_existing([root / "data_by_singer", root / "FULL"])
    if base is None:
        raise FileNotFoundError(f"{kind}: {root / 'data_by_singer'} not found. "
                                f"Expected: {LAYOUTS[kind]}")
    files = sorted(p for p in base.rglob("*.wav") if not p.name.startswith("._"))
    singers = [_singer_id(p.relative_to(base).parts[0]) for p in files]
    bad = [p for p, s in zip(files, singers, strict=True) if s is None]
    if bad or not files:
        raise DatasetError(f"{kind}: expected singer folders female<N>/male<N> under {base}, "
                           f"found {bad[0].relative_to(base).parts[0] if bad else 'no .wav files'}")
    techniques = [p.parent.name for p in files]
    if label == "singer":
        values, split = singers, _stratified_split(singers, valid_fraction, test_fraction, seed)
        classes = sorted(set(singers), key=lambda s: (s[0], int(s[1:])))
    else:
        lists = {}
        for split_name in ("train", "test"):
            path = _need_file(root / f"{split_name}_singers_technique.txt", kind,
                              f"{split_name}_singers_technique.txt")
            lists[split_name] = {_singer_id(x) for x in path.read_text().split() if x.strip()}
        keep = np.array([s in lists["train"] | lists["test"] for s in singers])
        files = [f for f, k in zip(files, keep, strict=True) if k]
        values = [t for t, k in zip(techniques, keep, strict=True) if k]
        is_test = np.array([s in lists["test"] for s, k in zip(singers, keep, strict=True) if k])
        split = np.where(is_test, "test", "train").astype("<U5")
        split[~is_test] = _stratified_split(np.asarray(values)[~is_test], valid_fraction, 0.0, seed)
        classes = sorted(set(values))
    dataset = AudioDataset(
        name=f"vocalset-{label}", root=root, paths=files, split=split,
        labels=_encode_classes(values, classes, kind, str(base)), task_type="multiclass",
        classes=classes, info={"kind": kind, "label": label, "seed": seed},
    )
    keep_files = _existing(dataset.paths, kind, missing, str(base))
    return dataset if keep_files.all() else dataset.select(keep_files)


# Labels that are not instruments (the authors' filter; "fx/processed sound" is the
# taxonomy's spelling, their code has "fx/processed_sound").
_MEDLEYDB_EXCLUDED = {"fx/processed sound", "fx/processed_sound", "Unlabeled",
                      "auxiliary percussion", "Main System"}


def _load_medleydb(root, metadata_dir=None, audio_dir=None, n_classes: int = 20,
                   valid_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0,
                   missing: str = "error") -> AudioDataset:
    """MedleyDB stems, instrument multiclass (Table 5: 20 classes).

    One clip per stem of every ``*_METADATA.yaml``; the ``n_classes`` most frequent stem
    instruments (ties by name) after removing non-instrument labels. A stem annotated with
    several instruments is dropped (ambiguous as a single label). Split: seeded,
    instrument-stratified per stem (``valid_fraction``, ``test_fraction``), as the authors.
    """
    kind = "medleydb"
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
        raise ValueError(f"{kind}: n_classes must be an int >= 1, got {n_classes!r}")
    root = _root_dir(root, kind)
    meta_dir = Path(metadata_dir).expanduser() if metadata_dir else _first_existing(
        d for d in (root / "Metadata", root / "metadata", root / "medleydb" / "data" / "Metadata",
                    root) if any(d.glob("*_METADATA.yaml")))
    if meta_dir is None or not any(meta_dir.glob("*_METADATA.yaml")):
        raise FileNotFoundError(f"{kind}: no *_METADATA.yaml files found (looked in "
                                f"{meta_dir or root / 'Metadata'}). Expected: {LAYOUTS[kind]}")
    audio_base = Path(audio_dir).expanduser() if audio_dir else (
        root / "Audio" if (root / "Audio").is_dir() else root)
    rows, n_multi = [], 0
    for meta_path in sorted(meta_dir.glob("*_METADATA.yaml")):
        try:
            meta = yaml.safe_load(meta_path.read_text())
        except yaml.YAMLError as error:
            raise DatasetError(f"{kind}: {meta_path} is not valid YAML: {error}") from error
        if not isinstance(meta, dict) or "stem_dir" not in meta or not isinstance(
                meta.get("stems"), dict):
            raise DatasetError(f"{kind}: {meta_path} needs 'stem_dir' and a 'stems' mapping")
        song = str(meta["stem_dir"]).split("_STEMS")[0]
        for stem_name, stem in sorted(meta["stems"].items()):
            if not isinstance(stem, dict) or "filename" not in stem or "instrument" not in stem:
                raise DatasetError(f"{kind}: {meta_path} stem {stem_name} needs 'filename' and "
                                   f"'instrument'")
            instrument = stem["instrument"]
            if isinstance(instrument, list):
                if len(set(instrument)) != 1:
                    n_multi += 1
                    continue
                instrument = instrument[0]
            if instrument in _MEDLEYDB_EXCLUDED:
                continue
            rows.append((audio_base / song / str(meta["stem_dir"]) / str(stem["filename"]),
                         str(instrument)))
    counts = Counter(i for _, i in rows)
    top = sorted(counts, key=lambda i: (-counts[i], i))[:n_classes]
    rows = [r for r in rows if r[1] in set(top)]
    classes = sorted(top)
    values = [i for _, i in rows]
    dataset = AudioDataset(
        name="medleydb-instrument", root=root, paths=[p for p, _ in rows],
        split=_stratified_split(values, valid_fraction, test_fraction, seed),
        labels=_encode_classes(values, classes, kind, str(meta_dir)), task_type="multiclass",
        classes=classes,
        info={"kind": kind, "dropped_multi_instrument_stems": n_multi, "seed": seed,
              "audio_dir": str(audio_base)},
    )
    keep = _existing(dataset.paths, kind, missing, str(meta_dir))
    return dataset if keep.all() else dataset.select(keep)


def _read_dict_csv(path: Path, kind: str, required: Sequence[str]) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()}
                for row in csv.DictReader(f)]
    found = list(rows[0]) if rows else []
    missing_columns = [c for c in required if c not in found]
    if missing_columns:
        raise DatasetError(f"{kind}: {path} lacks column(s) {missing_columns}; expected a "
                           f"comma-separated table with {list(required)}, found {found[:8]}")
    return rows


def _emomusic_valid(artist: str) -> bool:
    """Artist-hash train/valid assignment of JukeMIR (Castellon et al. [45]), 8:2."""
    name = "".join(c for c in artist.lower() if ord(c) < 128 and (c.isalpha() or c.isspace()))
    digest = int(hashlib.sha1(" ".join(name.split()).encode("utf-8")).hexdigest(), 16)
    return digest % 10 >= 8


def _load_emomusic(root, standardize: bool = True, missing: str = "error") -> AudioDataset:
    """EmoMusic (1000 songs, 45 s clips), regression of ``[arousal, valence]``.

    Split as JukeMIR [45] (the paper uses its split): MediaEval 2013 "evaluation" songs are
    test, the rest is split train/valid 8:2 by a hash of the artist name. With
    ``standardize`` (default, as JukeMIR and the authors), each target is shifted and scaled
    by its mean/std over the non-test songs.
    """
    kind = "emomusic"
    root = _root_dir(root, kind)
    base = _first_existing(d for d in (root, root / "annotations") if (d / "songs_info.csv").is_file())
    if base is None:
        raise FileNotFoundError(f"{kind}: songs_info.csv not found under {root}. "
                                f"Expected: {LAYOUTS[kind]}")
    info_rows = _read_dict_csv(base / "songs_info.csv", kind,
                               ["song_id", "Artist", "Mediaeval 2013 set"])
    static = _need_file(base / "static_annotations.csv", kind, "static_annotations.csv")
    targets = {}
    for row in _read_dict_csv(static, kind, ["song_id", "mean_arousal", "mean_valence"]):
        try:
            targets[int(row["song_id"])] = (float(row["mean_arousal"]), float(row["mean_valence"]))
        except ValueError as error:
            raise DatasetError(f"{kind}: {static} song_id {row['song_id']!r}: expected an integer "
                               f"id and numeric mean_arousal/mean_valence ({error})") from error
    paths, split, labels = [], [], []
    for row in info_rows:
        if not row["song_id"].isdigit():
            raise DatasetError(f"{kind}: songs_info.csv song_id must be an integer, got "
                               f"{row['song_id']!r}")
        song = int(row["song_id"])
        if song not in targets:
            raise DatasetError(f"{kind}: song_id {song} of songs_info.csv has no row in {static}")
        paths.append(root / "clips_45seconds" / f"{song}.mp3")
        if row["Mediaeval 2013 set"].lower() == "evaluation":
            split.append("test")
        else:
            split.append("valid" if _emomusic_valid(row["Artist"]) else "train")
        labels.append(targets[song])
    labels = np.asarray(labels, dtype=np.float32)  # [N, 2] arousal, valence
    stats = None
    if standardize:
        development = np.asarray(split) != "test"
        mean, std = labels[development].mean(axis=0), labels[development].std(axis=0)
        labels = ((labels - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)
        stats = {"mean": mean.tolist(), "std": std.tolist()}
    dataset = AudioDataset(
        name="emomusic", root=root, paths=paths, split=split, labels=labels,
        task_type="regression", classes=["arousal", "valence"],
        info={"kind": kind, "standardized": standardize, "stats": stats},
    )
    keep = _existing(dataset.paths, kind, missing, "songs_info.csv")
    return dataset if keep.all() else dataset.select(keep)


_LOADERS: dict[str, Callable[..., AudioDataset]] = {
    "embedded": _load_embedded,
    "mtat": _load_mtat,
    "nsynth": _load_nsynth,
    "giantsteps": _load_giantsteps,
    "gtzan": _load_gtzan,
    "jamendo": _load_jamendo,
    "fma": _load_fma,
    "vocalset": _load_vocalset,
    "medleydb": _load_medleydb,
    "emomusic": _load_emomusic,
}


def load_dataset(kind: str, root: str | os.PathLike, **options) -> AudioDataset:
    """Load a dataset from its native layout (see :data:`LAYOUTS`).

    Parameters
    ----------
    kind : str
        ``"embedded"``, ``"mtat"``, ``"nsynth"``, ``"giantsteps"``, ``"gtzan"``,
        ``"jamendo"``, ``"fma"``, ``"vocalset"``, ``"medleydb"`` or ``"emomusic"``.
    root : path-like
        The dataset folder.
    **options
        Loader options: embedded ``task``, ``label``; mtat ``subset`` (top50|all),
        ``audio_dir``, ``audio_ext``; nsynth ``label`` (pitch|family|source, ``"instrument"``
        = family); giantsteps ``mtg_dir``, ``key_dir``, ``valid_fraction``, ``seed``; gtzan
        ``split_dir``; jamendo ``subset`` (top50|genre|instrument|moodtheme),
        ``split_index``, ``audio_dir``; fma ``tracks_csv``, ``extensions``; vocalset
        ``label`` (singer|technique), ``valid_fraction``, ``test_fraction``, ``seed``;
        medleydb ``metadata_dir``, ``audio_dir``, ``n_classes``, fractions, ``seed``;
        emomusic ``standardize``. Every loader but fma takes ``missing`` ("error"|"drop").

    Returns
    -------
    AudioDataset
    """
    if kind not in _LOADERS:
        raise ValueError(f"unknown dataset kind {kind!r}; choose one of {sorted(_LOADERS)}")
    loader = _LOADERS[kind]
    accepted = [p for p in inspect.signature(loader).parameters if p != "root"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(f"load_dataset({kind!r}) got unknown option(s) {unknown}; "
                        f"it accepts {accepted}")
    return loader(root, **options)
