"""MagnaTagATune (Law et al. 2009), the paper's tagging and support dataset (Sec. 4.1)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import numpy as np

from semisup.data.datasets.base import (
    AudioDataset,
    DatasetError,
    existing_mask,
    find_audio_dir,
    need_file,
    read_table,
    register,
    root_dir,
)

LAYOUT = (
    "<root>/annotations_final.csv (tab-separated: clip_id, 188 tag columns, mp3_path) "
    "and the audio folders 0/ ... f/ under <root> or <root>/mp3 (option audio_dir)"
)


_MTAT_SPLIT = {"c": "valid", "d": "test", "e": "test", "f": "test"}


@register("mtat", LAYOUT)
def load(root, subset: str = "top50", audio_dir=None, audio_ext: str | None = None,
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
    root = root_dir(root, kind)
    source = need_file(root / "annotations_final.csv", kind, "annotations_final.csv")
    table = read_table(source, kind, ["clip_id", "mp3_path"], sep="\t")
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
    base = find_audio_dir(candidates, [r for r, k in zip(rel, keep_rows, strict=True) if k], kind)
    dataset = AudioDataset(
        name=f"mtat-{subset}", root=root, paths=[base / PurePosixPath(r) for r in rel],
        split=split, labels=multi_hot, task_type="multilabel", classes=classes,
        info={"kind": kind, "subset": subset, "audio_dir": str(base),
              "dropped_without_tags": int((~keep_rows).sum())},
    )
    dataset = dataset.select(keep_rows)
    keep = existing_mask(dataset.paths, kind, missing, str(source))
    return dataset if keep.all() else dataset.select(keep)
