"""NSynth (Engel et al. 2017): pitch and instrument family of 4 s notes (Sec. 4.1)."""

from __future__ import annotations

import json

import numpy as np

from semisup.data.datasets.base import (
    AudioDataset,
    DatasetError,
    existing_mask,
    register,
    root_dir,
)

LAYOUT = (
    "<root>/nsynth-{train,valid,test}/examples.json with audio at "
    "<root>/nsynth-<split>/audio/<note_str>.wav"
)


NSYNTH_FAMILIES = ["bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed",
                   "string", "synth_lead", "vocal"]
NSYNTH_SOURCES = ["acoustic", "electronic", "synthetic"]


@register("nsynth", LAYOUT)
def load(root, label: str = "pitch", missing: str = "error") -> AudioDataset:
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
    root = root_dir(root, kind)
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
                                f"Expected: {LAYOUT}")
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
    keep = existing_mask(dataset.paths, kind, missing, "examples.json")
    return dataset if keep.all() else dataset.select(keep)
