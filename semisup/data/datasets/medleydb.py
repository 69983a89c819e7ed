"""MedleyDB 1.0 / 2.0 stems (Bittner et al. 2014, 2016): instrument classification."""

from __future__ import annotations

import os
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

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
    register,
    root_dir,
)

# Where the public audio lands under <root>: the Zenodo V1 and V2 archives unpack to
# MedleyDB_V1/V1/<Track> and MedleyDB_V2/V2/<Track>; "Audio" is the original 1.0 download.
AUDIO_DIRS = ("Audio", "MedleyDB_V1/V1", "MedleyDB_V2/V2", "V1", "V2")
LAYOUT = (
    "<root>/Metadata/<Track>_METADATA.yaml (the marl/medleydb clone's medleydb/data/Metadata "
    "works too; option metadata_dir) and audio <dir>/<Track>/<Track>_STEMS/<stem file>.wav "
    f"in the public V1 and V2 folders, found under <root> as {', '.join(AUDIO_DIRS)} or given "
    "as audio_dir=<V1 folder>,<V2 folder>"
)


# The authors' exclusion list (datamodule_splitter.py), spelling included: the metadata writes
# "fx/processed sound", so that class is not excluded and is one of the 20 (Table 5's 913 stems).
EXCLUDED_INSTRUMENTS = ("fx/processed_sound", "Unlabeled", "auxiliary percussion", "Main System")


def _audio_dirs(root: Path, audio_dir, kind: str) -> list[Path]:
    """Return the audio folders: ``audio_dir`` if given, else those of :data:`AUDIO_DIRS` under ``root``."""
    if audio_dir is None:
        found = [root / d for d in AUDIO_DIRS if (root / d).is_dir()]
        if not found:
            raise FileNotFoundError(f"{kind}: no audio folder under {root} (looked for "
                                    f"{', '.join(AUDIO_DIRS)}); pass audio_dir=<V1 folder>,"
                                    f"<V2 folder>. Expected: {LAYOUT}")
        return found
    if isinstance(audio_dir, str):
        items = audio_dir.split(",")
    elif isinstance(audio_dir, os.PathLike):
        items = [audio_dir]
    else:
        items = list(audio_dir)
    dirs = [Path(str(d).strip()).expanduser() for d in items if str(d).strip()]
    bad = [str(d) for d in dirs if not d.is_dir()]
    if not dirs or bad:
        raise FileNotFoundError(f"{kind}: audio_dir={audio_dir!r}: {bad or 'no folder'} is not a "
                                f"folder; give the V1 and V2 audio folders, comma-separated. "
                                f"Expected: {LAYOUT}")
    return dirs


def _stems(meta_path: Path, kind: str) -> tuple[str, str, list[tuple[str, object]]]:
    """Read one ``*_METADATA.yaml``: track name, stem folder and ``(file name, instrument)`` per stem."""
    try:
        meta = yaml.safe_load(meta_path.read_text())
    except yaml.YAMLError as error:
        raise DatasetError(f"{kind}: {meta_path} is not valid YAML: {error}") from error
    if not isinstance(meta, dict) or "stem_dir" not in meta or not isinstance(meta.get("stems"), dict):
        raise DatasetError(f"{kind}: {meta_path} needs 'stem_dir' and a 'stems' mapping")
    stems = []
    for stem_name, stem in sorted(meta["stems"].items()):
        if not isinstance(stem, dict) or "filename" not in stem or "instrument" not in stem:
            raise DatasetError(f"{kind}: {meta_path} stem {stem_name} needs 'filename' and "
                               f"'instrument'")
        stems.append((str(stem["filename"]), stem["instrument"]))
    stem_dir = str(meta["stem_dir"])
    return stem_dir.split("_STEMS")[0], stem_dir, stems


def split_two_stage(instruments, valid_fraction: float, test_fraction: float,
                    seed: int) -> np.ndarray:
    """Split names ``[N]``: the authors' two ``train_test_split`` calls, stratified by instrument.

    ``test_fraction`` of all stems is the test split, then ``valid_fraction`` of the rest is
    valid, each rounded up (sklearn): 0.15 and 0.15 of 913 stems give Table 5's
    659 / 117 / 137.
    """
    valid_fraction = check_fraction("valid_fraction", valid_fraction)
    test_fraction = check_fraction("test_fraction", test_fraction)
    instruments = np.asarray(instruments)
    split = np.full(len(instruments), "train", dtype="<U5")
    is_test = draw_held_out(instruments, held_out_count(test_fraction, len(instruments)), seed)
    split[is_test] = "test"
    rest = np.flatnonzero(~is_test)
    is_valid = draw_held_out(instruments[rest], held_out_count(valid_fraction, len(rest)), seed)
    split[rest[is_valid]] = "valid"
    return split


@register("medleydb", LAYOUT)
def load(root, metadata_dir=None, audio_dir=None, n_classes: int = 20,
         valid_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 0,
         missing: str = "error") -> AudioDataset:
    """MedleyDB stems, instrument multiclass (Table 5: 20 classes, 659 / 117 / 137 stems).

    The authors' rule (``datamodule_splitter.py``): the ``n_classes`` most frequent stem
    instruments over **every** ``*_METADATA.yaml`` (ties by name; each instrument of a
    multi-instrument stem counts; their exclusion list :data:`EXCLUDED_INSTRUMENTS` spells
    ``fx/processed_sound``, so "fx/processed sound" stays a class), then one clip per stem of
    those classes in the tracks that have audio. A stem annotated with several different
    instruments is dropped (ambiguous as a single label; none is in V1/V2). Split:
    :func:`split_two_stage`, seeded: ``test_fraction`` of the stems, then ``valid_fraction`` of
    the rest.

    ``audio_dir``: the audio folders, searched in order for each track's folder: a folder, a
    list of folders, or one string of comma-separated folders (so the spec form
    ``medleydb:/data/medleydb?audio_dir=/data/MedleyDB_V1/V1,/data/MedleyDB_V2/V2`` works;
    paths may not contain commas). Default: those of :data:`AUDIO_DIRS` found under ``root``.

    Public audio: the marl/medleydb clone lists 330 tracks (V1, V2, "extra", Bach10; 2 014
    stems) but Zenodo has audio for V1 and V2 only (1 284 stems in 196 tracks). The classes
    are chosen over all 330 files first; then the stems of a track whose folder is in no
    audio folder are dropped with a ``UserWarning`` that counts them
    (``info["stems_without_audio"]``, ``info["tracks_without_audio"]``). On the full public
    metadata and V1 + V2 audio this gives 913 stems, Table 5's total. A missing stem file in
    a track that is present is a broken download (an error under ``missing="error"``).
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
    dirs = _audio_dirs(root, audio_dir, kind)
    track_folders = [set(os.listdir(d)) for d in dirs]
    rows, n_multi, n_listed, n_tracks = [], 0, 0, 0
    counts = Counter()  # instrument -> stems over every metadata file, audio or not
    without_audio = Counter()  # track -> stems listed
    for meta_path in sorted(meta_dir.glob("*_METADATA.yaml")):
        track, stem_dir, stems = _stems(meta_path, kind)
        n_tracks += 1
        n_listed += len(stems)
        base = next((d for d, names in zip(dirs, track_folders, strict=True) if track in names), None)
        if base is None:
            without_audio[track] = len(stems)
        for filename, instrument in stems:
            names = [str(i) for i in instrument] if isinstance(instrument, list) else [str(instrument)]
            counts.update(i for i in names if i not in EXCLUDED_INSTRUMENTS)
            if base is None:
                continue
            if len(set(names)) != 1:
                n_multi += 1
            elif names[0] not in EXCLUDED_INSTRUMENTS:
                rows.append((base / track / stem_dir / filename, names[0]))
    if len(without_audio) == n_tracks:
        raise FileNotFoundError(f"{kind}: none of the {n_tracks} tracks of {meta_dir} has a folder "
                                f"in {', '.join(map(str, dirs))}; pass audio_dir=<V1 folder>,"
                                f"<V2 folder>. Expected: {LAYOUT}")
    if without_audio:
        warnings.warn(
            f"{kind}: {without_audio.total()} of {n_listed} stems have no public audio (tracks "
            f"not in V1/V2): {len(without_audio)} of {n_tracks} tracks of {meta_dir} have no "
            f"folder in {', '.join(map(str, dirs))}, e.g. {sorted(without_audio)[:3]}; dropped "
            f"after choosing the classes over all {n_tracks} tracks",
            UserWarning, stacklevel=3)
    top = set(sorted(counts, key=lambda i: (-counts[i], i))[:n_classes])
    rows = [r for r in rows if r[1] in top]
    if not rows:
        raise DatasetError(f"{kind}: no stem with audio in {', '.join(map(str, dirs))} is one of "
                           f"the {n_classes} most frequent instruments of {meta_dir}")
    values = [i for _, i in rows]
    classes = sorted(set(values))
    dataset = AudioDataset(
        name="medleydb-instrument", root=root, paths=[p for p, _ in rows],
        split=split_two_stage(values, valid_fraction, test_fraction, seed),
        labels=encode_classes(values, classes, kind, str(meta_dir)), task_type="multiclass",
        classes=classes,
        info={"kind": kind, "dropped_multi_instrument_stems": n_multi, "seed": seed,
              "audio_dirs": [str(d) for d in dirs], "stems_listed": n_listed,
              "stems_without_audio": without_audio.total(),
              "tracks_without_audio": len(without_audio), "split_rule": SPLIT_RULES[kind]},
    )
    keep = existing_mask(dataset.paths, kind, missing, str(meta_dir))
    return dataset if keep.all() else dataset.select(keep)
