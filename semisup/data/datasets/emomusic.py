"""EmoMusic (Soleymani et al. 2013): arousal/valence regression (Sec. 4.1)."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from semisup.data.datasets.base import (
    AudioDataset,
    DatasetError,
    existing_mask,
    first_existing,
    need_file,
    register,
    root_dir,
)

LAYOUT = (
    "<root>/songs_info.csv, <root>/static_annotations.csv (or under "
    "<root>/annotations/) and <root>/clips_45seconds/<song_id>.mp3"
)


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


@register("emomusic", LAYOUT)
def load(root, standardize: bool = True, missing: str = "error") -> AudioDataset:
    """EmoMusic (1000 songs, 45 s clips), regression of ``[arousal, valence]``.

    Split as JukeMIR [45] (the paper uses its split): MediaEval 2013 "evaluation" songs are
    test, the rest is split train/valid 8:2 by a hash of the artist name. With
    ``standardize`` (default, as JukeMIR and the authors), each target is shifted and scaled
    by its mean/std over the non-test songs.
    """
    kind = "emomusic"
    root = root_dir(root, kind)
    base = first_existing(d for d in (root, root / "annotations") if (d / "songs_info.csv").is_file())
    if base is None:
        raise FileNotFoundError(f"{kind}: songs_info.csv not found under {root}. "
                                f"Expected: {LAYOUT}")
    info_rows = _read_dict_csv(base / "songs_info.csv", kind,
                               ["song_id", "Artist", "Mediaeval 2013 set"])
    static = need_file(base / "static_annotations.csv", kind, "static_annotations.csv")
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
    keep = existing_mask(dataset.paths, kind, missing, "songs_info.csv")
    return dataset if keep.all() else dataset.select(keep)
