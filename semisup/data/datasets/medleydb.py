"""MedleyDB 1.0 / 2.0 stems (Bittner et al. 2014, 2016): instrument classification."""

from __future__ import annotations

import os
import warnings
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

# Where the public audio lands under <root>: the Zenodo V1 and V2 archives unpack to
# MedleyDB_V1/V1/<Track> and MedleyDB_V2/V2/<Track>; "Audio" is the original 1.0 download.
AUDIO_DIRS = ("Audio", "MedleyDB_V1/V1", "MedleyDB_V2/V2", "V1", "V2")
LAYOUT = (
    "<root>/Metadata/<Track>_METADATA.yaml (the marl/medleydb clone's medleydb/data/Metadata "
    "works too; option metadata_dir) and audio <dir>/<Track>/<Track>_STEMS/<stem file>.wav "
    f"in the public V1 and V2 folders, found under <root> as {', '.join(AUDIO_DIRS)} or given "
    "as audio_dir=<V1 folder>,<V2 folder>"
)


_MEDLEYDB_EXCLUDED = {"fx/processed sound", "fx/processed_sound", "Unlabeled",
                      "auxiliary percussion", "Main System"}


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


@register("medleydb", LAYOUT)
def load(root, metadata_dir=None, audio_dir=None, n_classes: int = 20,
         valid_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0,
         missing: str = "error") -> AudioDataset:
    """MedleyDB stems, instrument multiclass (Table 5: 20 classes).

    One clip per stem of every ``*_METADATA.yaml``; the ``n_classes`` most frequent stem
    instruments (ties by name) after removing non-instrument labels. A stem annotated with
    several instruments is dropped (ambiguous as a single label). Split: seeded,
    instrument-stratified per stem (``valid_fraction``, ``test_fraction``), as the authors.

    ``audio_dir``: the audio folders, searched in order for each track's folder: a folder, a
    list of folders, or one string of comma-separated folders (so the spec form
    ``medleydb:/data/medleydb?audio_dir=/data/MedleyDB_V1/V1,/data/MedleyDB_V2/V2`` works;
    paths may not contain commas). Default: those of :data:`AUDIO_DIRS` found under ``root``.

    Public audio: the marl/medleydb clone lists 330 tracks (V1, V2, "extra", Bach10; 1 386
    stems) but Zenodo has audio for V1 and V2 only (803 of those stems have none). Stems of
    a track whose folder is in no audio folder are dropped with a ``UserWarning`` that counts
    them (``info["stems_without_audio"]``, ``info["tracks_without_audio"]``) before the
    classes are chosen; a missing stem file in a track that is present is a broken download
    (an error under ``missing="error"``).
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
    without_audio = Counter()  # track -> stems listed
    for meta_path in sorted(meta_dir.glob("*_METADATA.yaml")):
        track, stem_dir, stems = _stems(meta_path, kind)
        n_tracks += 1
        n_listed += len(stems)
        base = next((d for d, names in zip(dirs, track_folders, strict=True) if track in names), None)
        if base is None:
            without_audio[track] = len(stems)
            continue
        for filename, instrument in stems:
            if isinstance(instrument, list):
                if len(set(instrument)) != 1:
                    n_multi += 1
                    continue
                instrument = instrument[0]
            if instrument not in _MEDLEYDB_EXCLUDED:
                rows.append((base / track / stem_dir / filename, str(instrument)))
    if len(without_audio) == n_tracks:
        raise FileNotFoundError(f"{kind}: none of the {n_tracks} tracks of {meta_dir} has a folder "
                                f"in {', '.join(map(str, dirs))}; pass audio_dir=<V1 folder>,"
                                f"<V2 folder>. Expected: {LAYOUT}")
    if without_audio:
        warnings.warn(
            f"{kind}: {without_audio.total()} of {n_listed} stems have no public audio (tracks "
            f"not in V1/V2): {len(without_audio)} of {n_tracks} tracks of {meta_dir} have no "
            f"folder in {', '.join(map(str, dirs))}, e.g. {sorted(without_audio)[:3]}; dropped",
            UserWarning, stacklevel=3)
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
              "audio_dirs": [str(d) for d in dirs], "stems_listed": n_listed,
              "stems_without_audio": without_audio.total(),
              "tracks_without_audio": len(without_audio)},
    )
    keep = existing_mask(dataset.paths, kind, missing, str(meta_dir))
    return dataset if keep.all() else dataset.select(keep)
