"""VocalSet (Wilkins et al. 2018): singer identification and technique (Sec. 4.1)."""

from __future__ import annotations

import re

import numpy as np

from semisup.data.datasets.base import (
    SPLIT_RULES,
    AudioDataset,
    DatasetError,
    check_fraction,
    draw_held_out,
    encode_classes,
    existing_mask,
    first_existing,
    held_out_count,
    need_file,
    register,
    root_dir,
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


# Table 5's singer split, 2467 / 566 / 577 of 3610 files, as shares of the whole. The authors
# draw each file's split at random with p = (0.7, 0.15, 0.15) (datamodule_splitter.py), so
# their counts are one draw; these shares give exactly Table 5's counts on the 3610 files.
SINGER_VALID_FRACTION = 566 / 3610
SINGER_TEST_FRACTION = 577 / 3610


@register("vocalset", LAYOUT)
def load(root, label: str = "singer", valid_fraction: float | None = None,
         test_fraction: float = SINGER_TEST_FRACTION, seed: int = 0,
         missing: str = "error") -> AudioDataset:
    """VocalSet, multiclass: ``label="singer"`` (20 singers) or ``"technique"`` (17).

    Files under ``data_by_singer/<female1|male1...>/<context>/<technique>/``. Split counts
    are sklearn's (:func:`~semisup.data.datasets.base.held_out_count`, rounded up), drawn
    seeded and stratified by class:

    - singer: ``test_fraction`` and ``valid_fraction`` of all files (default
      :data:`SINGER_TEST_FRACTION`, :data:`SINGER_VALID_FRACTION`: Table 5's 2467 / 566 / 577
      on 3610 files);
    - technique: the singer-disjoint split of ``train_singers_technique.txt`` /
      ``test_singers_technique.txt`` (files of singers in neither are dropped); valid is
      ``valid_fraction`` (default 0.15) of the train singers' files, the authors'
      ``sample(frac=0.15)``: Table 5's 2282 / 403 / 894 on 2685 + 894 files.
      ``test_fraction`` does not apply.
    """
    kind = "vocalset"
    if label not in ("singer", "technique"):
        raise ValueError(f"{kind}: label must be 'singer' or 'technique', got {label!r}")
    if valid_fraction is None:
        valid_fraction = SINGER_VALID_FRACTION if label == "singer" else 0.15
    valid_fraction = check_fraction("valid_fraction", valid_fraction)
    test_fraction = check_fraction("test_fraction", test_fraction)
    if label == "singer" and valid_fraction + test_fraction >= 1:
        raise ValueError(f"{kind}: valid_fraction + test_fraction must be < 1, got "
                         f"{valid_fraction} + {test_fraction}")
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
        values = singers
        split = np.full(len(files), "train", dtype="<U5")
        is_test = draw_held_out(singers, held_out_count(test_fraction, len(files)), seed)
        split[is_test] = "test"
        rest = np.flatnonzero(~is_test)
        n_valid = min(held_out_count(valid_fraction, len(files)), len(rest))
        split[rest[draw_held_out(np.asarray(singers)[rest], n_valid, seed)]] = "valid"
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
        train = np.flatnonzero(~is_test)
        is_valid = draw_held_out(np.asarray(values)[train],
                                 held_out_count(valid_fraction, len(train)), seed)
        split[train[is_valid]] = "valid"
        classes = sorted(set(values))
    dataset = AudioDataset(
        name=f"vocalset-{label}", root=root, paths=files, split=split,
        labels=encode_classes(values, classes, kind, str(base)), task_type="multiclass",
        classes=classes, info={"kind": kind, "label": label, "seed": seed, "split_rule": SPLIT_RULES[kind]},
    )
    keep_files = existing_mask(dataset.paths, kind, missing, str(base))
    return dataset if keep_files.all() else dataset.select(keep_files)
