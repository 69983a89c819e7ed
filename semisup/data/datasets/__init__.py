"""Dataset loaders: the embedded benchmark and the real datasets of Sec. 4.1 in their native layouts.

One module per dataset family (``mtat``, ``nsynth``, ``giantsteps``, ``gtzan``, ``jamendo``,
``fma``, ``vocalset``, ``medleydb``, ``emomusic``, ``embedded``, ``prepared``); each returns
one :class:`AudioDataset` (absolute audio paths, a split per clip, labels, task type, class
names). ``load_dataset(kind, root, **options)`` dispatches on ``kind``; :data:`LAYOUTS` says
what each loader expects on disk, and every error about a missing folder, file or column
repeats it. Most users name a dataset by a spec string instead (:mod:`semisup.data.spec`).

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
- Splits drawn at random (GiantSteps valid, VocalSet, MedleyDB) are stratified by class and
  seeded (``seed`` option), so the same files always land in the same split; their defaults
  give Table 5's counts (GiantSteps 961/198/604, VocalSet singer 2467/566/577 and technique
  2282/403/894, MedleyDB 659/117/137 of 913 stems).
- Missing audio files are an error (``missing="error"``) or dropped with a warning
  (``missing="drop"``); corrupt files are the audio layer's job (``skip_bad`` in the sampler,
  or ``python -m semisup.data.prepare``, which leaves them out once and for all).
"""

from __future__ import annotations

import inspect
import os

# Importing the loader modules registers them (kind -> loader, layout).
from semisup.data.datasets import (  # noqa: F401
    embedded,
    emomusic,
    fma,
    giantsteps,
    gtzan,
    jamendo,
    medleydb,
    mtat,
    nsynth,
    prepared,
    vocalset,
)
from semisup.data.datasets.base import (
    KEY_CLASSES,
    LAYOUTS,
    LOADERS,
    SPLITS,
    TASK_TYPES,
    AudioDataset,
    DatasetError,
    normalize_key,
)

__all__ = [
    "AudioDataset",
    "DatasetError",
    "load_dataset",
    "loader_options",
    "LAYOUTS",
    "LOADERS",
    "SPLITS",
    "TASK_TYPES",
    "KEY_CLASSES",
    "normalize_key",
]


def loader_options(kind: str) -> dict[str, inspect.Parameter]:
    """Keyword options of the loader of ``kind`` (name -> parameter, default included)."""
    if kind not in LOADERS:
        raise ValueError(f"unknown dataset kind {kind!r}; choose one of {sorted(LOADERS)}")
    return {name: p for name, p in inspect.signature(LOADERS[kind]).parameters.items() if name != "root"}


def load_dataset(kind: str, root: str | os.PathLike, **options) -> AudioDataset:
    """Load a dataset from its native layout (see :data:`LAYOUTS`).

    Parameters
    ----------
    kind : str
        ``"embedded"``, ``"mtat"``, ``"nsynth"``, ``"giantsteps"``, ``"gtzan"``,
        ``"jamendo"``, ``"fma"``, ``"vocalset"``, ``"medleydb"``, ``"emomusic"`` or
        ``"prepared"``.
    root : path-like
        The dataset folder.
    **options
        Loader options: embedded ``task``, ``label``; mtat ``subset`` (top50|all),
        ``audio_dir``, ``audio_ext``; nsynth ``label`` (pitch|family|source, ``"instrument"``
        = family); giantsteps ``mtg_dir``, ``key_dir``, ``valid_fraction`` (0.17: Table 5's
        961/198 train/valid on the public annotations; 0.1 gives 1046/113), ``seed``; gtzan ``split_dir``;
        jamendo ``subset`` (top50|genre|instrument|moodtheme), ``split_index``,
        ``audio_dir`` (the output dir of the clone's ``scripts/download/download.py``); fma
        ``tracks_csv``, ``extensions``; vocalset ``label`` (singer|technique),
        ``valid_fraction``, ``test_fraction``, ``seed``; medleydb ``metadata_dir``,
        ``audio_dir`` (the V1 and V2 audio folders: a list, or one comma-separated string;
        default: found under ``root``), ``n_classes``, ``valid_fraction`` and ``test_fraction``
        (0.15 each: test of all stems, then valid of the rest), ``seed``; emomusic
        ``standardize``. Every loader but fma takes ``missing`` ("error"|"drop").

    Returns
    -------
    AudioDataset
    """
    accepted = list(loader_options(kind))
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(f"load_dataset({kind!r}) got unknown option(s) {unknown}; "
                        f"it accepts {accepted}")
    return LOADERS[kind](root, **options)
