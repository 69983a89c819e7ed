"""Miniature copies of real datasets in their native layouts, quirks included (tests, benchmarks).

Each writer produces a small tree that looks like the real download after its official steps
(REFERENCE "Real dataset layouts"), never a tidied version, so the loaders of
:mod:`semisup.data.datasets` and ``python -m semisup.data.prepare`` are exercised on what
users really have on disk:

- :func:`write_mtat`: MagnaTagATune. ``annotations_final.csv`` tab-separated, every field
  quoted, CRLF line ends, tag columns not in frequency order; audio folders ``0/`` ... ``f/``
  at the root (no ``mp3/`` level), 16 kHz mono 32 kbps MP3; the three zero-byte MP3s of the
  real distribution at their real paths (:data:`MTAT_ZERO_BYTE`); clips without any tag.
- :func:`write_fma`: FMA medium. ``fma_medium/NNN/NNNNNN.mp3`` (44.1 kHz stereo 256 kbps,
  some 48 kHz stereo and 22.05 kHz mono, one short track), ``fma_metadata/tracks.csv`` with
  the 3-row header and multi-line quoted fields, and one file that holds only an ID3v2 tag
  (:data:`FMA_NO_AUDIO`; libsndfile: "File does not exist or is not a regular file").
- :func:`write_jamendo`: MTG-Jamendo. The metadata clone's
  ``data/splits/split-0/autotagging_<subset>-{train,validation,test}.tsv`` (CRLF, a header,
  one tag per column after ``DURATION``, as many as the track has) and the audio as the
  clone's ``scripts/download/download.py`` unpacks it, ``<outputdir>/NN/<id>.mp3``: full-length
  tracks, 44.1 kHz stereo 320 kbps.
- :func:`write_nsynth`: NSynth. ``nsynth-{train,valid,test}/examples.json`` and
  ``audio/<note_str>.wav`` (16 kHz, 16-bit, 4 s notes held 3 s, tonal at the labelled pitch;
  valid/test instruments never appear in train).
- :func:`write_medleydb`: MedleyDB from a stem table (``track, release, stem_dir, stem,
  filename, instrument``, e.g. the real one of every marl/medleydb metadata file): the clone's
  ``medleydb/data/Metadata/<Track>_METADATA.yaml`` for every track, audio only for V1 and V2
  tracks, in the Zenodo folders ``MedleyDB_V1/V1/<Track>/<Track>_STEMS/`` and
  ``MedleyDB_V2/V2/...`` ("extra" and Bach10 tracks have metadata and no public audio).
- :func:`write_giantsteps`: GiantSteps key from its annotation texts: the MTG set's
  ``annotations/annotations.txt`` as given and ``audio/<ID>.LOFI.mp3``, the test set's
  ``annotations/key/<id>.LOFI.key`` (the key, no newline) and ``audio/<id>.LOFI.mp3``.
- :func:`write_vocalset`: VocalSet's ``data_by_singer/<female1|male1...>/<context>/
  <technique>/<f1_context_technique_vowel>.wav``, a macOS ``._`` file, and the technique
  task's ``train_singers_technique.txt`` / ``test_singers_technique.txt``.

Conventions
-----------
- Audio is cheap synthetic music: harmonic notes with attack/decay envelopes on a scale,
  plus noise bursts on the beat (:func:`music`); NSynth notes are one harmonic tone at the
  labelled MIDI pitch (:func:`note`). Peak 0.5, never silent.
- Every random choice comes from ``seed`` (the same arguments give the same files,
  MP3 bytes included).
- Durations and counts are parameters: tests use clips of ~1 s, benchmarks the real lengths
  (MTAT 29.1 s, FMA 30 s, Jamendo a few minutes). The metadata-driven writers (MedleyDB,
  GiantSteps, VocalSet) take ``audio_seconds=None`` to write empty files at the real paths
  instead: enough for split and class counts over thousands of files, which read no audio.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

__all__ = ["write_mtat", "write_fma", "write_jamendo", "write_nsynth", "write_medleydb",
           "write_giantsteps", "write_vocalset", "music", "note", "write_mp3", "id3_only_bytes",
           "MTAT_ZERO_BYTE", "FMA_NO_AUDIO"]

# The three zero-byte files of the real MTAT distribution (REFERENCE), with their clip ids.
MTAT_ZERO_BYTE = {
    35644: "6/norine_braun-now_and_zen-08-gently-117-146.mp3",
    55753: "8/jacob_heringman-josquin_des_prez_lute_settings-19-gintzler__pater_noster-204-233.mp3",
    57881: "9/american_baroque-dances_and_suites_of_rameau_and_couperin-25-le_petit_rien_xiveme_"
           "ordre_couperin-88-117.mp3",
}
FMA_NO_AUDIO = "fma_medium/099/099134.mp3"  # one of the ID3-only files reported in FMA medium

# Real MTAT tag names, in the file's (not frequency) column order for the first ones.
_MTAT_TAGS = [
    "no voice", "singer", "duet", "plucking", "hard rock", "world", "bongos", "harpsichord",
    "female singing", "clasical", "sitar", "chorus", "female opera", "male vocal", "vocals",
    "clarinet", "heavy", "silence", "beats", "men", "woodwind", "funky", "no strings",
    "chimes", "foreign", "no piano", "horns", "classical", "female", "no voices", "soft rock",
    "eerie", "spacey", "jazz", "guitar", "quiet", "no beat", "banjo", "electric", "solo",
    "violins", "folk", "female voice", "wind", "happy", "ambient", "new age", "synth", "funk",
    "no singing", "middle eastern", "trumpet", "percussion", "drum", "airy", "voice",
    "repetitive", "birds", "space", "strings", "bass", "harpsicord", "medieval", "male voice",
]
# Real MTG-Jamendo top-50 tags (a few of each category).
_JAMENDO_TAGS = [
    "genre---electronic", "genre---rock", "genre---pop", "genre---ambient", "genre---classical",
    "genre---jazz", "instrument---guitar", "instrument---piano", "instrument---synthesizer",
    "instrument---drums", "mood/theme---energetic", "mood/theme---relaxing", "mood/theme---sad",
    "mood/theme---happy",
]
_NSYNTH_FAMILIES = ["bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed",
                    "string", "synth_lead", "vocal"]
_NSYNTH_SOURCES = ["acoustic", "electronic", "synthetic"]
_NSYNTH_QUALITIES = ["bright", "dark", "distortion", "fast_decay", "long_release", "multiphonic",
                     "nonlinear_env", "percussive", "reverb", "tempo-synced"]
_MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), *key]))


def _harmonic(f0: float, n: int, sample_rate: int, rolloff: float, phase: np.ndarray) -> np.ndarray:
    """Sum of harmonics ``k * f0`` below Nyquist with amplitude ``k ** -rolloff``: ``[n]``."""
    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    for k in range(1, 9):
        if k * f0 >= 0.45 * sample_rate:
            break
        out += k ** -rolloff * np.sin(2 * np.pi * k * f0 * t + phase[k - 1])
    return out


def music(rng: np.random.Generator, seconds: float, sample_rate: int,
          channels: int = 1) -> np.ndarray:
    """Cheap synthetic music: scale notes with envelopes and noise bursts on the beat.

    Returns float32 ``[n, channels]`` with ``n = round(seconds * sample_rate)``, peak 0.5;
    the channels of a stereo clip are two different mixes of the same notes.
    """
    n = max(1, round(seconds * sample_rate))
    beat = round(rng.uniform(0.25, 0.6) * sample_rate)
    tonic = int(rng.integers(45, 60))
    rolloff = rng.uniform(0.8, 2.0)
    out = np.zeros((n, channels))
    pan = rng.uniform(0.2, 0.8, size=64)
    start, i = 0, 0
    while start < n:
        length = min(n - start, int(beat * rng.choice([0.5, 1, 1, 2])))
        pitch = tonic + _MAJOR[rng.integers(0, 7)] + 12 * int(rng.integers(0, 2))
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        t = np.arange(length) / sample_rate
        envelope = np.minimum(1, t / 0.01) * np.exp(-t / rng.uniform(0.15, 0.6))
        tone = envelope * _harmonic(f0, length, sample_rate, rolloff, rng.uniform(0, 2 * np.pi, 8))
        burst = np.zeros(length)
        hit = min(length, int(0.05 * sample_rate))
        burst[:hit] = rng.standard_normal(hit) * np.exp(-np.arange(hit) / (0.01 * sample_rate))
        weights = [pan[i % 64], 1 - pan[i % 64]][:channels]
        for c in range(channels):
            out[start:start + length, c] += weights[c] * tone + 0.3 * burst
        start, i = start + length, i + 1
    return (0.5 * out / np.max(np.abs(out))).astype(np.float32)


def note(pitch: int, rng: np.random.Generator, sample_rate: int = 16000, seconds: float = 4.0,
         velocity: int = 100, rolloff: float = 1.5) -> np.ndarray:
    """Synthesise an NSynth-like note: a harmonic tone at MIDI ``pitch``, held 3 s then released.

    Returns float32 ``[n]`` (``n = seconds * sample_rate``), peak ``0.5 * velocity / 127``.
    """
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    hold = min(3.0, seconds)
    envelope = np.minimum(1, t / 0.01) * np.exp(-t / 2.5) * np.clip(
        1 - (t - hold) / max(seconds - hold, 1e-3), 0, 1)
    x = envelope * _harmonic(f0, n, sample_rate, rolloff, rng.uniform(0, 2 * np.pi, 8))
    return (0.5 * velocity / 127 * x / np.max(np.abs(x))).astype(np.float32)


def write_mp3(path: Path, audio: np.ndarray, sample_rate: int, kbps: int) -> Path:
    """Write ``audio`` ``[n]`` or ``[n, channels]`` as a constant-bitrate MP3 of ``kbps``.

    libsndfile maps ``compression_level`` in [0, 1] linearly from the highest to the lowest
    bitrate of the MPEG version the sample rate belongs to (MPEG-1 >= 32 kHz: 320-32 kbps;
    MPEG-2 16-24 kHz: 160-8; MPEG-2.5: 64-8).
    """
    high, low = (320, 32) if sample_rate >= 32000 else (160, 8) if sample_rate >= 16000 else (64, 8)
    if not low <= kbps <= high:
        raise ValueError(f"kbps must be in [{low}, {high}] at {sample_rate} Hz, got {kbps}")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, sample_rate, format="MP3", bitrate_mode="CONSTANT",
             compression_level=(high - kbps) / (high - low))
    return path


def id3_only_bytes(title: str) -> bytes:
    """Return an ID3v2.4 tag holding one TIT2 (title) frame, and no audio after it."""
    text = b"\x03" + title.encode("utf-8")  # encoding byte 3 = UTF-8
    frame = b"TIT2" + _syncsafe(len(text)) + b"\x00\x00" + text
    return b"ID3\x04\x00\x00" + _syncsafe(len(frame)) + frame


def _syncsafe(n: int) -> bytes:
    """ID3v2 28-bit sizes: 7 bits per byte, the top bit of each byte 0."""
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


# ------------------------------------------------------------------------------------- MTAT


def write_mtat(root: str | Path, n_clips: int = 24, seconds: float = 29.1, seed: int = 0,
               n_tags: int = 60) -> Path:
    """Write a MagnaTagATune tree with ``n_clips`` MP3s plus the three zero-byte ones.

    Clips cycle over the folders ``0 c 1 d 2 e 3 f 4 5 6 7 8 9 a b``, so even four clips
    give the three canonical splits (c -> valid, d/e/f -> test). Every sixth clip has no tag
    at all (dropped by ``subset="top50"``); the zero-byte clips carry frequent tags, so they
    survive the loader and reach the audio layer, as in the real dataset. ``n_tags`` (<= 64)
    tag columns hold real MTAT tag names; their frequencies follow a seeded order unrelated
    to the column order. Returns ``root``.
    """
    root = Path(root)
    if not 1 <= n_tags <= len(_MTAT_TAGS):
        raise ValueError(f"n_tags must be in [1, {len(_MTAT_TAGS)}], got {n_tags}")
    rng = _rng(seed, 0x3A7)
    tags = _MTAT_TAGS[:n_tags]
    popularity = rng.permutation(n_tags)  # rank of each column by expected frequency
    p_tag = 0.6 * 0.9 ** popularity
    ids = np.sort(rng.choice(np.arange(2, 58_900, 4), size=n_clips, replace=False))
    rows = []
    for i, clip_id in enumerate(ids):
        folder = "0c1d2e3f456789ab"[i % 16]
        rel = f"{folder}/artist_{i:03d}-album_{clip_id}-{i % 12 + 1:02d}-track_{i:03d}-30-59.mp3"
        values = (rng.random(n_tags) < p_tag).astype(int) if i % 6 != 5 else np.zeros(n_tags, int)
        rows.append((int(clip_id), values, rel))
        write_mp3(root / rel, music(_rng(seed, 1, i), seconds, 16000), 16000, kbps=32)
    frequent = np.argsort(popularity)[:2]
    for clip_id, rel in MTAT_ZERO_BYTE.items():
        values = np.zeros(n_tags, int)
        values[frequent] = 1
        rows.append((clip_id, values, rel))
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"")
    rows.sort(key=lambda r: r[0])
    with open(root / "annotations_final.csv", "w", newline="") as f:
        writer = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(["clip_id", *tags, "mp3_path"])
        writer.writerows([str(c), *map(str, v), rel] for c, v, rel in rows)
    return root


# -------------------------------------------------------------------------------------- FMA


def write_fma(root: str | Path, n_tracks: int = 12, seconds: float = 30.0, seed: int = 0,
              short_seconds: float = 8.0) -> Path:
    """Write an FMA-medium tree: ``n_tracks`` MP3s, the ID3-only file and ``tracks.csv``.

    Track ``i``: 48 kHz stereo when ``i % 6 == 4``, 22.05 kHz mono (64 kbps) when
    ``i % 6 == 5``, else 44.1 kHz stereo 256 kbps; track 1 lasts ``short_seconds``.
    ``tracks.csv`` (3-row header, LF line ends) lists every track, the ID3-only one and
    two ``large``-only tracks without audio; one ``album/information`` and one
    ``track/title`` hold a newline inside quotes. Official split: ``i % 8 == 3`` ->
    validation, ``== 6`` -> test (so even 7 tracks give three splits). Returns ``root``.
    """
    root = Path(root)
    rng = _rng(seed, 0xF3A)
    no_audio_id = int(Path(FMA_NO_AUDIO).stem)
    ids = np.sort(rng.choice(np.setdiff1d(np.arange(2, 155_321), [no_audio_id]),
                             size=n_tracks + 2, replace=False))
    audio_ids, large_only = ids[:n_tracks], ids[n_tracks:]
    rows = []
    for i, track_id in enumerate(audio_ids):
        rate, channels, kbps = {4: (48000, 2, 256), 5: (22050, 1, 64)}.get(i % 6, (44100, 2, 256))
        length = short_seconds if i == 1 else seconds
        write_mp3(root / "fma_medium" / f"{track_id // 1000:03d}" / f"{track_id:06d}.mp3",
                  music(_rng(seed, 2, i), length, rate, channels), rate, kbps)
        split = {3: "validation", 6: "test"}.get(i % 8, "training")
        title = f"Track {i}\n(live)" if i == 2 else f"Track {i}"
        info = f"<p>Recorded at home,\nrelease {i}</p>" if i == 0 else ""
        rows.append([int(track_id), info, f"Album {i // 3}", f"Artist {i // 3}", split,
                     "medium" if i % 4 else "small", round(length), title])
    (root / FMA_NO_AUDIO).parent.mkdir(parents=True, exist_ok=True)
    (root / FMA_NO_AUDIO).write_bytes(id3_only_bytes("Untitled"))
    rows.append([no_audio_id, "", "Broken", "Uploader", "training", "medium", 0, "no audio"])
    rows += [[int(t), "", "Large", "Artist L", "training", "large", 30, "large only"]
             for t in large_only]
    rows.sort(key=lambda r: r[0])
    (root / "fma_medium" / "README.txt").write_text("This .zip contains the fma_medium dataset.\n")
    (root / "fma_medium" / "checksums").write_text("")
    (root / "fma_metadata").mkdir(parents=True, exist_ok=True)
    with open(root / "fma_metadata" / "tracks.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["", "album", "album", "artist", "set", "set", "track", "track"])
        writer.writerow(["", "information", "title", "name", "split", "subset", "duration",
                         "title"])
        writer.writerow(["track_id"] + [""] * 7)
        writer.writerows(rows)
    return root


# ---------------------------------------------------------------------------------- Jamendo


def write_jamendo(root: str | Path, audio_dir: str | Path | None = None, n_tracks: int = 24,
                  seconds: float = 240.0, seed: int = 0, subset: str = "top50tags",
                  kbps: int = 320) -> Path:
    """Write an MTG-Jamendo metadata clone (split 0 of ``subset``) and its full-length MP3s.

    ``root`` gets ``data/splits/split-0/autotagging_<subset>-{train,validation,test}.tsv``;
    ``audio_dir`` (default ``<root>/mp3``; the real one usually lies outside the clone) gets
    ``NN/<id>.mp3`` with ``NN = id % 100``, as ``download.py`` unpacks them: 44.1 kHz stereo
    at ``kbps`` (320 in the real set), ``seconds`` long (real tracks: ~4 min). Track ``i``
    goes to validation when ``i % 8 == 3``, test when ``== 6``, else train; each carries one
    to four real tag names (:data:`_JAMENDO_TAGS`). Returns ``root``.
    """
    root = Path(root)
    audio_dir = Path(audio_dir) if audio_dir is not None else root / "mp3"
    rng = _rng(seed, 0x1A3)
    ids = np.sort(rng.choice(np.arange(200, 1_420_000), size=n_tracks, replace=False))
    rows: dict[str, list[str]] = {"train": [], "validation": [], "test": []}
    for i, track_id in enumerate(ids):
        rel = f"{track_id % 100:02d}/{track_id}.mp3"
        write_mp3(audio_dir / rel, music(_rng(seed, 4, i), seconds, 44100, 2), 44100, kbps)
        tags = rng.choice(_JAMENDO_TAGS, size=int(rng.integers(1, 5)), replace=False)
        split = {3: "validation", 6: "test"}.get(i % 8, "train")
        rows[split].append("\t".join([f"track_{track_id:07d}", f"artist_{track_id // 50:06d}",
                                      f"album_{track_id // 10:06d}", rel, f"{seconds:.1f}",
                                      *sorted(tags)]))
    folder = root / "data" / "splits" / "split-0"
    folder.mkdir(parents=True, exist_ok=True)
    for split, lines in rows.items():
        text = "\r\n".join(["TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS", *lines])
        (folder / f"autotagging_{subset}-{split}.tsv").write_bytes((text + "\r\n").encode())
    return root


# ----------------------------------------------------------------------------------- NSynth


def write_nsynth(root: str | Path, n_notes: dict[str, int] | None = None, seed: int = 0,
                 seconds: float = 4.0) -> Path:
    """Write NSynth's ``nsynth-<split>/examples.json`` and ``audio/<note_str>.wav`` files.

    ``n_notes`` per split (default train 8, valid 3, test 3). Each split plays its own
    instruments (as in NSynth, valid/test instruments never appear in train); pitches are
    drawn in MIDI 36-96 and the audio is a harmonic tone at that pitch (:func:`note`),
    16 kHz 16-bit. Returns ``root``.
    """
    root = Path(root)
    n_notes = n_notes or {"train": 8, "valid": 3, "test": 3}
    unknown = sorted(set(n_notes) - {"train", "valid", "test"})
    if unknown:
        raise ValueError(f"n_notes keys must be train/valid/test, got {unknown}")
    rng = _rng(seed, 0x5E7)
    note_id = 0
    for s, (split, count) in enumerate(n_notes.items()):
        examples = {}
        for i in range(count):
            note_str = ""
            while not note_str or note_str in examples:  # one note per (instrument, pitch, vel.)
                family, source = int(rng.integers(0, 11)), int(rng.integers(0, 3))
                instrument = 100 * s + i % 3  # per-split instrument ids
                pitch = int(rng.integers(36, 97))
                velocity = int(rng.choice([25, 50, 75, 100, 127]))
                inst_str = f"{_NSYNTH_FAMILIES[family]}_{_NSYNTH_SOURCES[source]}_{instrument:03d}"
                note_str = f"{inst_str}-{pitch:03d}-{velocity:03d}"
            qualities = (rng.random(10) < 0.2).astype(int).tolist()
            examples[note_str] = {
                "note": note_id, "note_str": note_str, "instrument": instrument,
                "instrument_str": inst_str, "pitch": pitch, "velocity": velocity,
                "sample_rate": 16000, "qualities": qualities,
                "qualities_str": [q for q, on in zip(_NSYNTH_QUALITIES, qualities, strict=True)
                                  if on],
                "instrument_family": family, "instrument_family_str": _NSYNTH_FAMILIES[family],
                "instrument_source": source, "instrument_source_str": _NSYNTH_SOURCES[source],
            }
            path = root / f"nsynth-{split}" / "audio" / f"{note_str}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            audio = note(pitch, _rng(seed, 3, note_id), 16000, seconds, velocity,
                         rolloff=0.8 + 0.15 * family)
            sf.write(path, audio, 16000, subtype="PCM_16")
            note_id += 1
        (root / f"nsynth-{split}" / "examples.json").write_text(json.dumps(examples, indent=4))
    return root


def _audio_or_empty(path: Path, seconds: float | None, sample_rate: int, rng: np.random.Generator,
                    mp3_kbps: int | None = None) -> None:
    """Write :func:`music` of ``seconds`` at ``path`` (mono WAV, or stereo MP3 of ``mp3_kbps``), or an empty file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if seconds is None:
        path.touch()
    elif mp3_kbps is None:
        sf.write(path, music(rng, seconds, sample_rate), sample_rate, subtype="PCM_16")
    else:
        write_mp3(path, music(rng, seconds, sample_rate, channels=2), sample_rate, mp3_kbps)


# --------------------------------------------------------------------------------- MedleyDB


def write_medleydb(root: str | Path, stems: list[dict[str, str]], audio_seconds: float | None = 0.05,
                   seed: int = 0) -> Path:
    """Write the marl/medleydb metadata of ``stems`` and the Zenodo V1 / V2 stem audio under ``root``.

    ``stems``: one dict per stem with ``track``, ``release`` (V1, V2, extra, bach10),
    ``stem_dir``, ``stem`` (S01 ...), ``filename`` and ``instrument`` (several instruments
    joined with ``|``, written as a YAML list as in the real files). Audio (44.1 kHz WAV) is
    written for V1 and V2 tracks only, as Zenodo has no other. Returns ``root`` (the loader's
    ``medleydb:<root>``).
    """
    root = Path(root)
    tracks: dict[str, list[dict[str, str]]] = {}
    for stem in stems:
        tracks.setdefault(stem["track"], []).append(stem)
    meta_dir = root / "medleydb" / "data" / "Metadata"
    meta_dir.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed, 0x3ED)
    for track, rows in tracks.items():
        meta = {"artist": track.split("_")[0], "title": track, "mix_filename": f"{track}_MIX.wav",
                "stem_dir": rows[0]["stem_dir"], "raw_dir": f"{track}_RAW", "stems": {}}
        for row in rows:
            names = row["instrument"].split("|")
            meta["stems"][row["stem"]] = {"component": "", "filename": row["filename"],
                                          "instrument": names if len(names) > 1 else names[0], "raw": {}}
            if row["release"] in ("V1", "V2"):
                folder = root / f"MedleyDB_{row['release']}" / row["release"] / track / row["stem_dir"]
                _audio_or_empty(folder / row["filename"], audio_seconds, 44100, rng)
        (meta_dir / f"{track}_METADATA.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    return root


# ------------------------------------------------------------------------------- GiantSteps


def write_giantsteps(root: str | Path, annotations: str, test_keys: dict[str, str],
                     audio_seconds: float | None = 0.1, seed: int = 0) -> Path:
    """Write giantsteps-mtg-key-dataset and giantsteps-key-dataset under ``root``.

    ``annotations``: the text of the MTG set's ``annotations/annotations.txt``
    (tab-separated ``ID``, ``MANUAL KEY``, ``C``), written unchanged, with ``audio/<ID>.LOFI.mp3`` for every
    row; ``test_keys``: test id -> the text of its ``annotations/key/<id>.LOFI.key`` (no
    newline, as the real files), with ``audio/<id>.LOFI.mp3``. Audio: 44.1 kHz stereo 128 kbps
    MP3. Returns ``root``.
    """
    root = Path(root)
    mtg, orig = root / "giantsteps-mtg-key-dataset", root / "giantsteps-key-dataset"
    (mtg / "annotations").mkdir(parents=True, exist_ok=True)
    (mtg / "annotations" / "annotations.txt").write_text(annotations)
    rng = _rng(seed, 0x6E5)
    ids = [line.split("\t")[0].strip() for line in annotations.splitlines()[1:] if line.strip()]
    for track in ids:
        _audio_or_empty(mtg / "audio" / f"{track}.LOFI.mp3", audio_seconds, 44100, rng, 128)
    (orig / "annotations" / "key").mkdir(parents=True, exist_ok=True)
    for track, key in test_keys.items():
        (orig / "annotations" / "key" / f"{track}.LOFI.key").write_text(key)
        _audio_or_empty(orig / "audio" / f"{track}.LOFI.mp3", audio_seconds, 44100, rng, 128)
    return root


# --------------------------------------------------------------------------------- VocalSet


def write_vocalset(root: str | Path, files: dict[str, dict[str, int]], test_singers: list[str],
                   audio_seconds: float | None = 0.05, seed: int = 0) -> Path:
    """Write VocalSet's ``data_by_singer`` tree and the technique task's singer lists.

    ``files``: singer folder (``female1``, ``male3`` ...) -> ``"<context>/<technique>"`` ->
    number of files, named ``<f1>_<context>_<technique>_<vowel or take>.wav`` (44.1 kHz) as
    in the real set; one macOS ``._`` file sits beside them. ``test_singers`` go to
    ``test_singers_technique.txt``, the other singers to ``train_singers_technique.txt``.
    Returns ``root``.
    """
    root = Path(root)
    rng = _rng(seed, 0x7C5)
    for singer, groups in files.items():
        short = singer[0] + singer.lstrip("femal")  # female2 -> f2, male3 -> m3
        for group, count in groups.items():
            context, technique = group.split("/")
            folder = root / "data_by_singer" / singer / context / technique
            for take in range(count):
                take_name = "aeiou"[take] if take < 5 else f"{take}"
                _audio_or_empty(folder / f"{short}_{context}_{technique}_{take_name}.wav",
                                audio_seconds, 44100, rng)
    first = next(iter(files))
    (root / "data_by_singer" / first / "._junk.wav").write_bytes(b"\x00\x05\x16\x07")
    (root / "train_singers_technique.txt").write_text(
        "".join(f"{s}\n" for s in files if s not in test_singers))
    (root / "test_singers_technique.txt").write_text("".join(f"{s}\n" for s in test_singers))
    return root
