"""The score side of the embedded benchmark: music21 corpus collections, works, note lists.

Nine collections of the music21 corpus play the role of genres (the ``style`` task's
classes); their works are parsed once into plain note lists (cached on disk) that the task
planners cut into excerpts, transpose and orchestrate.

Conventions
-----------
- A *work* is one score of the corpus (one chorale, one mass movement, one tune of an ABC
  book), identified by ``work_id`` = ``"<corpus path>"`` or ``"<corpus path>#<number>"``.
- A *group* gathers works that share material and must not straddle splits: a Palestrina
  mass (its movements), a Bach cantata (BWV number), a quartet opus (its movements), tunes
  of one collection with the same title (variants). Splits are drawn per group.
- Times are in quarter notes (``_q``) in a :class:`Work`; the planners turn them into
  seconds with a tempo. Pitches are MIDI numbers. Ties are merged; grace notes and chord
  symbols are dropped; repeats are not expanded (the score is read as written, which also
  sidesteps music21's MIDI-export failure on repeat marks, REFERENCE.md).
- Notated key: the first ``music21.key.Key`` of the score, trusted only for collections
  whose encodings carry the mode (``Collection.notated_mode``): Bach chorales and the
  quartets (MusicXML ``<mode>``), and the O'Neill, Ryan and Aird ABC books (``K:`` fields
  name minor and modal keys explicitly). Essen ``K:`` fields are key signatures only.
- Cache: parsed works are stored as JSON under ``$SEMISUP_CACHE_DIR`` (default
  ``$XDG_CACHE_HOME/semisup`` or ``~/.cache/semisup``) in a folder named after the music21
  version and ``EXTRACT_VERSION``; a cached work is byte-for-byte what a fresh parse gives.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semisup.paths import atomic_write, cache_root

__all__ = [
    "Collection",
    "COLLECTIONS",
    "STYLE_CLASSES",
    "WorkRef",
    "Work",
    "inventory",
    "assign_splits",
    "cache_dir",
    "load_work",
    "abc_modes",
    "EXTRACT_VERSION",
    "MUSIC21_LICENCE",
]

EXTRACT_VERSION = 1  # bump when the note-list extraction changes (invalidates the cache)


@dataclass(frozen=True)
class Collection:
    """One source collection of the music21 corpus (a ``style`` class).

    Attributes
    ----------
    name : str
        Class name used as the ``style`` label.
    description : str
        What it is.
    licence : str
        Licence/provenance note recorded in ``meta.json``.
    style_tags : tuple of str
        Tags every excerpt of it carries in the ``tags`` task.
    palette : tuple of int
        GM programs typical of the music (used for 75 % of parts in tags/style clips).
    beat_bpm : tuple of float
        Performance tempo range in beats per minute (the time signature's beat).
    drum_probability : float
        Chance that a tags/style clip of it gets a drum part.
    notated_mode : bool
        Whether the score's notated key includes a trustworthy mode (see module notes).
    """

    name: str
    description: str
    licence: str
    style_tags: tuple[str, ...]
    palette: tuple[int, ...]
    beat_bpm: tuple[float, float]
    drum_probability: float
    notated_mode: bool


MUSIC21_LICENCE = ("music21 corpus (BSD-3 package; the corpus is 'freely distributable' per "
                "music21, public domain in the US to the best of music21's knowledge)")

COLLECTIONS: dict[str, Collection] = {c.name: c for c in (
    Collection(
        "bach-chorales", "J.S. Bach, four-part chorale harmonisations (music21 bach/bwv*.mxl)",
        MUSIC21_LICENCE, ("baroque", "sacred"),
        (19, 20, 52, 53, 48, 49, 56, 57, 58, 60, 68, 69, 70, 71, 73, 6, 40, 41, 42, 43),
        (54.0, 90.0), 0.05, True),
    Collection(
        "palestrina", "G.P. da Palestrina, mass movements (Humdrum, John Miller 2000)",
        "music21 corpus; Humdrum encodings (c) 2000 John Miller, research use per the "
        "Humdrum Palestrina licence", ("renaissance", "sacred"),
        (52, 53, 54, 74, 73, 48, 49, 57, 58, 70, 69, 19, 20, 41, 42, 43),
        (50.0, 80.0), 0.0, False),
    Collection(
        "monteverdi", "C. Monteverdi, five-voice madrigals, books 3-5 (MusicXML)",
        MUSIC21_LICENCE, ("renaissance", "madrigal"),
        (52, 53, 40, 41, 42, 43, 48, 6, 24, 46, 74, 45, 19, 20),
        (56.0, 92.0), 0.0, False),
    Collection(
        "trecento", "Italian Trecento polyphony (14th century; PMFC transcriptions)",
        MUSIC21_LICENCE, ("medieval",),
        (74, 75, 111, 68, 109, 46, 24, 15, 53, 110, 20, 41, 70, 105),
        (60.0, 110.0), 0.1, False),
    Collection(
        "classical-quartets", "Haydn, Mozart and Beethoven string quartet movements",
        MUSIC21_LICENCE, ("classical period", "chamber"),
        (40, 41, 42, 43, 48, 49, 0, 1, 73, 71, 68, 60, 70, 45),
        (60.0, 140.0), 0.0, True),
    Collection(
        "essen-folk", "Essen folk song collection, German songs (Schaffrath; ABC)",
        MUSIC21_LICENCE, ("german", "song"),
        (21, 23, 24, 25, 53, 52, 71, 22, 0, 110, 74, 58, 56, 105, 32),
        (70.0, 130.0), 0.3, False),
    Collection(
        "oneill-irish", "O'Neill's Music of Ireland (1903), Irish dance tunes and airs (ABC)",
        MUSIC21_LICENCE, ("irish", "celtic", "dance"),
        (110, 40, 73, 74, 72, 109, 21, 105, 25, 46, 75, 23),
        (84.0, 130.0), 0.35, True),
    Collection(
        "ryan-fiddle", "Ryan's Mammoth Collection (1883), American fiddle tunes (ABC)",
        MUSIC21_LICENCE, ("american", "dance"),
        (110, 40, 105, 25, 24, 22, 0, 3, 43, 32, 21, 73),
        (84.0, 130.0), 0.4, True),
    Collection(
        "aird-scottish", "Aird's Selection of Scotch, English, Irish and Foreign Airs (ABC)",
        MUSIC21_LICENCE, ("scottish", "celtic"),
        (109, 110, 40, 73, 46, 0, 21, 42, 74, 72, 71),
        (60.0, 120.0), 0.2, True),
)}
STYLE_CLASSES: tuple[str, ...] = tuple(COLLECTIONS)


@dataclass(frozen=True, order=True)
class WorkRef:
    """Where a work lives in the music21 corpus.

    Attributes
    ----------
    work_id : str
        ``"<corpus path>"`` or ``"<corpus path>#<number>"`` (ABC books hold many tunes).
    collection : str
        Key of :data:`COLLECTIONS`.
    group : str
        Split group (see module notes).
    path : str
        Corpus-relative path, e.g. ``"bach/bwv66.6.mxl"``.
    number : str or None
        Tune number inside an ABC book.
    """

    work_id: str
    collection: str
    group: str
    path: str
    number: str | None


@dataclass(frozen=True)
class Work:
    """A parsed work as plain note lists.

    Attributes
    ----------
    ref : WorkRef
    parts : list of np.ndarray
        One ``[K, 3]`` float64 array per part: ``(onset_q, duration_q, midi_pitch)``, sorted.
    length_q : float
        Duration of the score in quarter notes.
    key : tuple of (int, str) or None
        Notated key ``(tonic pitch class, mode)`` (mode as music21 names it: "major",
        "minor", "dorian", ...), or None when the score has no ``Key``.
    meter : tuple of (int, int, float) or None
        Dominant time signature ``(numerator, denominator, beat_q)``, or None.
    measures_q : np.ndarray
        ``[N]`` measure start offsets of the first part (downbeats for drum patterns).
    """

    ref: WorkRef
    parts: list[np.ndarray]
    length_q: float
    key: tuple[int, str] | None
    meter: tuple[int, int, float] | None
    measures_q: np.ndarray

    @property
    def notated_key(self) -> tuple[int, str] | None:
        """The notated key when its collection's notation carries a trustworthy mode."""
        return self.key if COLLECTIONS[self.ref.collection].notated_mode else None


def _collection_of(path: str, n_parts: int | None) -> str | None:
    """Return the collection of a corpus path, or None when the file is not used."""
    top, _, rest = path.partition("/")
    suffix = Path(path).suffix
    if top == "bach":
        return "bach-chorales" if rest.startswith("bwv") and suffix == ".mxl" and n_parts == 4 \
            else None
    if top in ("haydn", "mozart", "beethoven"):
        # one file per movement (whole-quartet files take up to 7 s each to parse)
        is_movement = Path(path).stem.startswith("movement") and "_" not in Path(path).stem
        return "classical-quartets" if suffix == ".mxl" and n_parts == 4 and is_movement \
            else None
    if top == "palestrina":
        return "palestrina" if suffix == ".krn" else None
    if top == "monteverdi":
        return "monteverdi" if suffix == ".mxl" else None
    if top == "trecento":
        return "trecento" if suffix in (".xml", ".mxl") else None
    table = {"essenFolksong": "essen-folk", "oneills1850": "oneill-irish",
             "ryansMammoth": "ryan-fiddle", "airdsAirs": "aird-scottish"}
    return table.get(top) if suffix == ".abc" and n_parts == 1 else None


def _group_of(collection: str, path: str, metadata) -> str:
    if collection == "bach-chorales":
        match = re.match(r"bach/bwv(\d+)", path)
        return f"bwv{match.group(1)}" if match else path
    if collection == "palestrina":
        return (getattr(metadata, "parentTitle", None) or Path(path).stem).strip()
    if collection == "classical-quartets":
        return str(Path(path).parent)  # e.g. mozart/k80: the movements of one quartet
    title = getattr(metadata, "title", None) if collection in (
        "essen-folk", "oneill-irish", "ryan-fiddle", "aird-scottish") else None
    return re.sub(r"\W+", " ", title).strip().lower() if title else path


def inventory() -> list[WorkRef]:
    """All usable works of the nine collections, sorted by ``work_id`` (no score is parsed).

    Reads music21's corpus metadata bundle (~2 s): paths, tune numbers, part counts, titles;
    the result is cached next to the parsed works.
    """
    from music21 import corpus

    cached = cache_dir() / "inventory.json"
    if cached.is_file():
        try:
            return [WorkRef(*row) for row in json.loads(cached.read_text())]
        except (OSError, json.JSONDecodeError, TypeError):
            pass  # damaged: rebuild below
    refs = {}
    bundle = corpus.corpora.CoreCorpus().metadataBundle
    for entry in bundle[:]:  # one list; iterating the bundle indexes it in O(n) per entry
        metadata = entry.metadata
        if metadata is None:
            continue
        path = str(entry.sourcePath).replace(os.sep, "/")
        collection = _collection_of(path, metadata.numberOfParts)
        if collection is None:
            continue
        number = str(entry.number) if entry.number is not None else None
        work_id = f"{path}#{number}" if number is not None else path
        group = f"{collection}:{_group_of(collection, path, metadata)}"
        refs[work_id] = WorkRef(work_id, collection, group, path, number)
    result = sorted(refs.values())
    _write_json(cached, [list(vars(r).values()) for r in result])
    return result


def _write_json(path: Path, obj) -> None:
    """Write a cache file atomically; best effort.

    A cache that cannot be written (read-only home, full disk) only costs speed, so the
    error is swallowed.
    """
    with contextlib.suppress(OSError):
        atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(obj)))


def assign_splits(refs: list[WorkRef], seed: int, valid_fraction: float = 0.15,
                  test_fraction: float = 0.15) -> dict[str, str]:
    """Map each group to "train"/"valid"/"test", per collection, deterministically from ``seed``.

    Groups of a collection are ordered by ``sha256(f"{seed}:{group}")``; the first
    ``max(1, round(test_fraction * n))`` go to test, the next ``max(1, round(valid_fraction *
    n))`` to valid, the rest to train. Every split of every collection is therefore
    non-empty, and one group (all transpositions and excerpts of its works) is in one split
    across all tasks.
    """
    by_collection: dict[str, set[str]] = {}
    for ref in refs:
        by_collection.setdefault(ref.collection, set()).add(ref.group)
    splits = {}
    for groups in by_collection.values():
        ordered = sorted(groups, key=lambda g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest())
        n_test = max(1, round(test_fraction * len(ordered)))
        n_valid = max(1, round(valid_fraction * len(ordered)))
        for i, group in enumerate(ordered):
            splits[group] = "test" if i < n_test else "valid" if i < n_test + n_valid else "train"
    return splits


def cache_dir() -> Path:
    """Folder of cached parsed works for this music21 version and extraction version."""
    import music21

    return cache_root() / "corpus" / f"music21-{music21.__version__}-x{EXTRACT_VERSION}"


def _extract(score) -> dict:
    """Plain note lists, notated key, dominant meter and measure starts of a music21 score."""
    from music21 import harmony, key, meter, note

    parts = []
    for part in score.parts:
        events: list[list[float]] = []
        open_ties: dict[int, int] = {}
        for element in part.flatten().notes:
            length = float(element.duration.quarterLength)
            if length <= 0 or isinstance(element, harmony.ChordSymbol):
                continue  # grace notes, chord symbols
            onset = float(element.offset)
            pitches = [element.pitch] if isinstance(element, note.Note) else list(element.pitches)
            tie = element.tie.type if element.tie is not None else None
            for pitch in pitches:
                midi = int(pitch.midi)
                if tie in ("continue", "stop") and midi in open_ties:
                    row = events[open_ties[midi]]
                    row[1] = onset + length - row[0]  # merge the tied continuation
                    if tie == "stop":
                        del open_ties[midi]
                    continue
                events.append([onset, length, float(midi)])
                if tie == "start":
                    open_ties[midi] = len(events) - 1
        if events:
            parts.append(sorted(events))
    first = score.parts[0] if len(score.parts) else score
    keys = [k for k in score.recurse().getElementsByClass(key.Key)]
    notated = [int(keys[0].tonic.pitchClass), str(keys[0].mode)] if keys else None
    signatures = list(first.flatten().getElementsByClass(meter.TimeSignature))
    length_q = float(score.highestTime)
    coverage: dict[tuple, float] = {}
    for i, ts in enumerate(signatures):
        end = float(signatures[i + 1].offset) if i + 1 < len(signatures) else length_q
        label = (int(ts.numerator), int(ts.denominator), float(ts.beatDuration.quarterLength))
        coverage[label] = coverage.get(label, 0.0) + max(0.0, end - float(ts.offset))
    dominant = max(coverage.items(), key=lambda kv: (kv[1], kv[0]))[0] if coverage else None
    measures = sorted({float(m.offset) for m in first.getElementsByClass("Measure")})
    return {"parts": parts, "length_q": length_q, "key": notated,
            "meter": list(dominant) if dominant else None, "measures_q": measures}


def load_work(ref: WorkRef, use_cache: bool = True) -> Work | None:
    """Parse one work (or read it from the cache); None when music21 cannot parse it.

    A work that fails to parse or has no notes gives None (the builder lists such works in
    ``meta.json``); the failure is cached too, so it costs one parse.
    """
    path = cache_dir() / f"{hashlib.sha1(ref.work_id.encode()).hexdigest()[:20]}.json"
    record = None
    if use_cache and path.is_file():
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            record = None  # a damaged cache entry is re-parsed and rewritten
        if record is not None and record.get("work_id") != ref.work_id:
            record = None
    if record is None:
        record = {"work_id": ref.work_id}
        try:
            from music21 import corpus

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # music21 warns about odd ABC/MusicXML details
                score = corpus.parse(ref.path, number=ref.number, forceSource=True)
            record.update(_extract(score))
        except Exception as error:  # noqa: BLE001 - any parser failure means "skip this work"
            record["error"] = f"{type(error).__name__}: {error}"
        if use_cache:
            _write_json(path, record)
    if "error" in record or not record.get("parts"):
        return None
    return Work(
        ref=ref,
        parts=[np.asarray(p, dtype=np.float64).reshape(-1, 3) for p in record["parts"]],
        length_q=float(record["length_q"]),
        key=(int(record["key"][0]), str(record["key"][1])) if record["key"] else None,
        meter=(int(record["meter"][0]), int(record["meter"][1]), float(record["meter"][2]))
        if record["meter"] else None,
        measures_q=np.asarray(record["measures_q"], dtype=np.float64),
    )


_ABC_MODES = {"": "major", "maj": "major", "ion": "major", "m": "minor", "min": "minor",
              "aeo": "minor", "dor": "modal", "mix": "modal", "phr": "modal", "lyd": "modal",
              "loc": "modal"}


def abc_modes(refs: list[WorkRef]) -> dict[str, str]:
    """Mode named by the ``K:`` field of each ABC tune: "major", "minor" or "modal".

    Reads the ABC books' text (no music21 parsing), so the key task can pick minor tunes
    before parsing any; the mode of the parsed score is checked again afterwards. Tunes
    whose ``K:`` field is missing or not understood are left out.
    """
    from music21 import corpus

    books: dict[str, dict[str | None, str]] = {}
    out = {}
    for ref in refs:
        if not ref.path.endswith(".abc"):
            continue
        if ref.path not in books:
            books[ref.path] = _abc_book_modes(Path(corpus.getWork(ref.path)).read_text(
                encoding="latin-1"))
        modes = books[ref.path]
        mode = modes.get(_tune_number(ref.number)) if ref.number is not None else \
            next(iter(modes.values()), None)  # a one-tune file: its only K: field
        if mode is not None:
            out[ref.work_id] = mode
    return out


def _tune_number(text: str) -> str:
    """ABC tune numbers as music21 counts them: ``"0001"`` -> ``"1"``."""
    return str(int(text)) if text.isdigit() else text


def _abc_book_modes(text: str) -> dict[str | None, str]:
    """``{tune number: mode}`` of one ABC book (``None`` before the first ``X:`` line)."""
    modes: dict[str | None, str] = {}
    number = None
    for line in text.splitlines():
        if line.startswith("X:"):
            number = _tune_number(line[2:].strip())
        elif line.startswith("K:") and number not in modes:
            match = re.match(r"\s*[A-Ga-g][#b]?\s*([A-Za-z]*)", line[2:])
            if match:
                mode = _ABC_MODES.get(match.group(1).lower()[:3])
                if mode is not None:
                    modes[number] = mode
    return modes
