"""MTG-Jamendo auto-tagging (Bogdanov et al. 2019): top50, genre, instrument, mood/theme."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from semisup.data.datasets.base import (
    AudioDataset,
    DatasetError,
    existing_mask,
    find_audio_dir,
    first_existing,
    multi_hot,
    need_file,
    register,
    root_dir,
)

LAYOUT = (
    "<root> = the mtg-jamendo-dataset clone, with data/splits/split-0/autotagging_<subset>-"
    "{train,validation,test}.tsv (tab-separated, header TRACK_ID ARTIST_ID ALBUM_ID PATH "
    "DURATION TAGS, PATH like 14/214.mp3, then one tag per column); audio in the outputdir of "
    "the clone's scripts/download/download.py, which unpacks <NN>/<id>.mp3 (.low.mp3 for the "
    "low-quality set), usually outside the clone: pass audio_dir=<download.py output dir> "
    "(<root>/mp3 is found without it)"
)


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


@register("jamendo", LAYOUT)
def load(root, subset: str = "top50", split_index: int = 0, audio_dir=None,
         missing: str = "error") -> AudioDataset:
    """MTG-Jamendo auto-tagging, multilabel, official split ``split_index`` (split-0 in the paper).

    ``root`` is the metadata clone (``mtg-jamendo-dataset/``); its
    ``data/splits/split-<i>/autotagging_<subset>-{train,validation,test}.tsv`` files (CRLF,
    a header, column 4 ``PATH``, tags from column 6 on, as many as the track has) give the
    clips. ``subset``: ``"top50"``, ``"genre"``, ``"instrument"`` or ``"moodtheme"``
    (``"mood"``); ``info["subset"]`` records the file's name for it (``"top50tags"``, ...).
    Classes are the tags found in the three files (e.g. ``"genre---rock"``), sorted.

    ``audio_dir``: the ``outputdir`` given to the clone's ``scripts/download/download.py``,
    which unpacks the audio to ``<outputdir>/<NN>/<id>.mp3`` (``<id>.low.mp3`` for the
    low-quality set, found too); audio is read from ``<audio_dir>/<PATH>``. Without it,
    ``<root>/mp3``, ``<root>/audio``, ``<root>/raw_30s/audio`` and ``<root>`` are tried.
    """
    kind = "jamendo"
    if subset not in _JAMENDO_SUBSETS:
        raise ValueError(f"{kind}: subset must be one of {sorted(_JAMENDO_SUBSETS)}, got {subset!r}")
    root = root_dir(root, kind)
    stem = f"autotagging_{_JAMENDO_SUBSETS[subset]}"
    folder_name = f"split-{int(split_index)}"
    split_folder = first_existing(
        d for d in (root / "data" / "splits" / folder_name, root / "splits" / folder_name,
                    root / folder_name, root) if (d / f"{stem}-train.tsv").is_file()
    )
    if split_folder is None:
        raise FileNotFoundError(f"{kind}: {stem}-train.tsv not found under {root} "
                                f"(looked in data/splits/{folder_name}, splits/{folder_name}, "
                                f"{folder_name}, .). Expected: {LAYOUT}")
    rel, tag_lists, split = [], [], []
    for split_name, file_split in (("train", "train"), ("valid", "validation"), ("test", "test")):
        path = need_file(split_folder / f"{stem}-{file_split}.tsv", kind, f"{stem}-{file_split}.tsv")
        r, t = _read_jamendo_tsv(path)
        rel += r
        tag_lists += t
        split += [split_name] * len(r)
    classes = sorted({t for tags in tag_lists for t in tags})
    candidates = [Path(audio_dir).expanduser()] if audio_dir else [
        root / "mp3", root / "audio", root / "raw_30s" / "audio", root]
    low = [re.sub(r"\.mp3$", ".low.mp3", r) for r in rel]
    base = None
    for names in (rel, low):  # full-quality copies first, then the low-quality set
        try:
            base, rel = find_audio_dir(candidates, names, kind), names
            break
        except FileNotFoundError:
            continue
    if base is None:
        raise FileNotFoundError(
            f"{kind}: the audio of {split_folder}/{stem}-*.tsv (e.g. {rel[:1]} or {low[:1]}) is "
            f"not under {', '.join(map(str, candidates))}; pass audio_dir=<download.py output "
            f"dir>, the outputdir that scripts/download/download.py unpacked <NN>/<id>.mp3 "
            f"into. Expected: {LAYOUT}")
    dataset = AudioDataset(
        name=f"jamendo-{_JAMENDO_SUBSETS[subset]}", root=root,
        paths=[base / PurePosixPath(r) for r in rel], split=split,
        labels=multi_hot(tag_lists, classes, kind, str(split_folder)), task_type="multilabel",
        classes=classes, info={"kind": kind, "subset": _JAMENDO_SUBSETS[subset],
                               "split_index": int(split_index),
                               "audio_dir": str(base)},
    )
    keep = existing_mask(dataset.paths, kind, missing, str(split_folder))
    return dataset if keep.all() else dataset.select(keep)
