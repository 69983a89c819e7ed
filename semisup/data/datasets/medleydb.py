"""MedleyDB 1.0 / 2.0 stems (Bittner et al. 2014, 2016): instrument classification."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from semisup.data.datasets.base import (
    AudioDataset,
    DatasetError,
    encode_classes,
    existing_mask,
    first_existing,
    register,
    root_dir,
    stratified_split,
)

LAYOUT = (
    "<root>/Metadata/<Song>_METADATA.yaml and <root>/Audio/<Song>/<Song>_STEMS/"
    "<stem file>.wav (options metadata_dir, audio_dir)"
)


_MEDLEYDB_EXCLUDED = {"fx/processed sound", "fx/processed_sound", "Unlabeled",
                      "auxiliary percussion", "Main System"}


@register("medleydb", LAYOUT)
def load(root, metadata_dir=None, audio_dir=None, n_classes: int = 20,
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
    root = root_dir(root, kind)
    meta_dir = Path(metadata_dir).expanduser() if metadata_dir else first_existing(
        d for d in (root / "Metadata", root / "metadata", root / "medleydb" / "data" / "Metadata",
                    root) if any(d.glob("*_METADATA.yaml")))
    if meta_dir is None or not any(meta_dir.glob("*_METADATA.yaml")):
        raise FileNotFoundError(f"{kind}: no *_METADATA.yaml files found (looked in "
                                f"{meta_dir or root / 'Metadata'}). Expected: {LAYOUT}")
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
        split=stratified_split(values, valid_fraction, test_fraction, seed),
        labels=encode_classes(values, classes, kind, str(meta_dir)), task_type="multiclass",
        classes=classes,
        info={"kind": kind, "dropped_multi_instrument_stems": n_multi, "seed": seed,
              "audio_dir": str(audio_base)},
    )
    keep = existing_mask(dataset.paths, kind, missing, str(meta_dir))
    return dataset if keep.all() else dataset.select(keep)
