"""VocalSet (Wilkins et al. 2018): singer identification and technique (Sec. 4.1)."""

from __future__ import annotations

import re

import numpy as np

from semisup.data.datasets.base import (
    AudioDataset,
    DatasetError,
    encode_classes,
    existing_mask,
    first_existing,
    need_file,
    register,
    root_dir,
    stratified_split,
)

LAYOUT = (
    "<root>/data_by_singer/<female1|male1...>/<context>/<technique>/<file>.wav; "
    "for label='technique' also <root>/train_singers_technique.txt and "
    "<root>/test_singers_technique.txt"
)


_SINGER = re.compile(r"^(female|male|f|m)(\d+)$", re.I)


def _singer_id(name: str) -> str | None:
    match = _SINGER.match(name.strip())
    return None if match is None else f"{match.group(1)[0].lower()}{int(match.group(2))}"


@register("vocalset", LAYOUT)
def load(root, label: str = "singer", valid_fraction: float = 0.1,
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
    root = root_dir(root, kind)
    base = first_existing([root / "data_by_singer", root / "FULL"])
    if base is None:
        raise FileNotFoundError(f"{kind}: {root / 'data_by_singer'} not found. "
                                f"Expected: {LAYOUT}")
    files = sorted(p for p in base.rglob("*.wav") if not p.name.startswith("._"))
    singers = [_singer_id(p.relative_to(base).parts[0]) for p in files]
    bad = [p for p, s in zip(files, singers, strict=True) if s is None]
    if bad or not files:
        raise DatasetError(f"{kind}: expected singer folders female<N>/male<N> under {base}, "
                           f"found {bad[0].relative_to(base).parts[0] if bad else 'no .wav files'}")
    techniques = [p.parent.name for p in files]
    if label == "singer":
        values, split = singers, stratified_split(singers, valid_fraction, test_fraction, seed)
        classes = sorted(set(singers), key=lambda s: (s[0], int(s[1:])))
    else:
        lists = {}
        for split_name in ("train", "test"):
            path = need_file(root / f"{split_name}_singers_technique.txt", kind,
                              f"{split_name}_singers_technique.txt")
            lists[split_name] = {_singer_id(x) for x in path.read_text().split() if x.strip()}
        keep = np.array([s in lists["train"] | lists["test"] for s in singers])
        files = [f for f, k in zip(files, keep, strict=True) if k]
        values = [t for t, k in zip(techniques, keep, strict=True) if k]
        is_test = np.array([s in lists["test"] for s, k in zip(singers, keep, strict=True) if k])
        split = np.where(is_test, "test", "train").astype("<U5")
        split[~is_test] = stratified_split(np.asarray(values)[~is_test], valid_fraction, 0.0, seed)
        classes = sorted(set(values))
    dataset = AudioDataset(
        name=f"vocalset-{label}", root=root, paths=files, split=split,
        labels=encode_classes(values, classes, kind, str(base)), task_type="multiclass",
        classes=classes, info={"kind": kind, "label": label, "seed": seed},
    )
    keep_files = existing_mask(dataset.paths, kind, missing, str(base))
    return dataset if keep_files.all() else dataset.select(keep_files)
