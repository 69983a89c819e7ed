"""GTZAN genre (Tzanetakis & Cook 2002), fault-filtered split (Sec. 4.1)."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from semisup.data.datasets.base import (
    SPLITS,
    AudioDataset,
    encode_classes,
    existing_mask,
    first_existing,
    need_file,
    register,
    root_dir,
)

LAYOUT = (
    "<root>/genres/<genre>/<genre>.000NN.wav (or <root>/genres_original/..., or "
    "<root>/<genre>/...); fault-filtered split lists from torchaudio, or option "
    "split_dir with train_filtered.txt, valid_filtered.txt, test_filtered.txt"
)


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
        path = need_file(folder / file_name, "gtzan", f"split list {file_name}")
        entries = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
        # Entries may read "blues/blues.00029.wav", "blues.00029.au" or "blues.00029".
        lists[split_name] = [re.sub(r"\.(wav|au)$", "", PurePosixPath(e).name) for e in entries]
    return lists


@register("gtzan", LAYOUT)
def load(root, split_dir=None, missing: str = "error") -> AudioDataset:
    """GTZAN genre, 10-class multiclass, fault-filtered split (Sec. 4.1, [46, 47]).

    The split lists come from ``torchaudio.datasets.gtzan`` (``filtered_train`` ...), or
    from ``split_dir`` holding ``train_filtered.txt``, ``valid_filtered.txt``,
    ``test_filtered.txt`` (one file per line, e.g. ``blues/blues.00029.wav``). Genre = the
    file id's prefix (= its folder); ``.wav`` or the original ``.au`` files are found.
    """
    kind = "gtzan"
    root = root_dir(root, kind)
    base = first_existing(d for d in (root / "genres", root / "genres_original", root)
                           if (d / "blues").is_dir())
    if base is None:
        raise FileNotFoundError(f"{kind}: no genre folders (blues/, classical/, ...) under {root}. "
                                f"Expected: {LAYOUT}")
    lists = _gtzan_lists(split_dir)
    ids, split = [], []
    for split_name in SPLITS:
        ids += lists[split_name]
        split += [split_name] * len(lists[split_name])
    genres = [i.split(".")[0] for i in ids]
    labels = encode_classes(genres, GTZAN_GENRES, kind, "the split lists")
    ext = ".au" if (base / "blues" / f"{ids[0]}.au").is_file() else ".wav"
    dataset = AudioDataset(
        name="gtzan-genre", root=root, paths=[base / g / f"{i}{ext}" for g, i in zip(genres, ids,
                                                                                    strict=True)],
        split=split, labels=labels, task_type="multiclass", classes=GTZAN_GENRES,
        info={"kind": kind, "split_lists": "torchaudio" if split_dir is None else str(split_dir)},
    )
    keep = existing_mask(dataset.paths, kind, missing, "the fault-filtered split lists")
    return dataset if keep.all() else dataset.select(keep)
