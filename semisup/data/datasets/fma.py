"""Free Music Archive (Defferrard et al. 2017): the unlabeled pool of Sec. 4.1."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from semisup.data.datasets.base import (
    AudioDataset,
    DatasetError,
    first_existing,
    need_file,
    register,
    root_dir,
)

LAYOUT = (
    "audio files <root>/fma_medium/NNN/NNNNNN.mp3 (or <root>/NNN/NNNNNN.mp3); optional "
    "<root>/fma_metadata/tracks.csv (option tracks_csv) for the official split"
)


_FMA_SPLIT = {"training": "train", "validation": "valid", "test": "test"}


@register("fma", LAYOUT)
def load(root, tracks_csv=None, extensions: Sequence[str] = (".mp3",)) -> AudioDataset:
    """FMA audio as an unlabeled pool (Sec. 4.1 uses fma_medium, labels unused).

    Every file with one of ``extensions`` under ``<root>/fma_medium`` (or ``<root>``) is a
    clip, sorted by path. With ``tracks_csv`` (or ``<root>/fma_metadata/tracks.csv``), the
    official ``set/split`` column gives train/valid/test; otherwise every clip is train.
    """
    kind = "fma"
    root = root_dir(root, kind)
    suffixes = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
    base = first_existing(d for d in (root / "fma_medium", root / "fma_large",
                                       root / "fma_small", root / "fma_full") if d.is_dir()) or root
    paths = sorted(p for p in base.rglob("*") if p.suffix.lower() in suffixes and p.is_file())
    if not paths:
        raise FileNotFoundError(f"{kind}: no audio files ({sorted(suffixes)}) under {base}. "
                                f"Expected: {LAYOUT}")
    csv_path = Path(tracks_csv).expanduser() if tracks_csv else root / "fma_metadata" / "tracks.csv"
    split = np.full(len(paths), "train", dtype="<U5")
    if tracks_csv or csv_path.is_file():
        need_file(csv_path, kind, "tracks.csv")
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
