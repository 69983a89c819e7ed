"""Plan the clips of the five embedded tasks: what to render, with which labels.

Each task has a planner that turns a *slot* (one clip to be made, with a fixed split and
index) and an *attempt* number into a :class:`ClipSpec`: tracks of timed notes, the number
of samples, the labels and provenance. The builder renders attempt 0 of every slot; a slot
whose render fails a check (:func:`semisup.data.embedded.render.check_audio`) is planned again with
the next attempt (another instrument, excerpt or work), up to ``MAX_ATTEMPTS``.

Conventions
-----------
- Every random choice of a candidate comes from ``numpy.random.default_rng((seed, task code,
  slot index, attempt))``: a clip depends on nothing else, so the build is identical for any
  number of workers and any order of rendering.
- Splits: ``notes`` holds out instruments (each GM family with three or more programs gives
  one program to test and one to valid, like NSynth's held-out instruments); ``key``,
  ``tags``, ``style`` and ``unlabeled`` split by corpus *group* through
  :func:`semisup.data.embedded.corpus.assign_splits` (one split per group across all tasks), and
  ``unlabeled`` only uses works of the train split, so pre-training never hears a test work.
- Clip lengths: ``NOTE_SECONDS`` = 4 s for notes (NSynth: 3 s held + 1 s release), and
  ``CLIP_SECONDS`` = 6 s for the others (two adjacent 2.7 s views plus slack).
- Tempo is drawn in beats per minute of the time signature's beat (a dotted quarter in 6/8,
  a half note in 4/2); a quarter note lasts ``60 / (bpm * beat_q)`` seconds.
- Notes are released 30 ms early (at most 30 % of their length) so repeated notes re-strike.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from semisup.data.embedded import gm
from semisup.data.embedded.corpus import COLLECTIONS, STYLE_CLASSES, Work, WorkRef
from semisup.data.embedded.render import Track
from semisup.data.keys import KEY_CLASSES, estimate_key, key_name, parse_key

__all__ = [
    "TASKS",
    "SPLITS",
    "NOTE_SECONDS",
    "CLIP_SECONDS",
    "MAX_ATTEMPTS",
    "SizeConfig",
    "SIZES",
    "ClipSpec",
    "NotesPlanner",
    "KeyPlanner",
    "TagsPlanner",
    "StylePlanner",
    "UnlabeledPlanner",
    "works_needed",
    "tags_weights",
    "split_note_programs",
    "tag_vocabulary",
]

TASKS: tuple[str, ...] = ("unlabeled", "notes", "key", "tags", "style")
SPLITS: tuple[str, ...] = ("train", "valid", "test")
NOTE_SECONDS = 4.0
CLIP_SECONDS = 6.0
MAX_ATTEMPTS = 4
_TASK_CODE = {name: i + 1 for i, name in enumerate(TASKS)}
_NOTE_HOLD_SECONDS = 3.0
_NOTE_VELOCITIES = (50, 75, 100, 127)
# Excerpts one work may give, per collection: long works (mass movements, madrigals,
# quartet movements) hold many 6 s windows; chorales two; tunes one (there are thousands).
_EXCERPTS_PER_WORK = {"bach-chorales": 2, "palestrina": 4, "monteverdi": 4, "trecento": 4,
                      "classical-quartets": 4, "essen-folk": 1, "oneill-irish": 1,
                      "ryan-fiddle": 1, "aird-scottish": 1}
# Key works: notated mode, tonal, quick to parse (quartet movements modulate and are slow).
_KEY_COLLECTIONS = ("bach-chorales", "oneill-irish", "ryan-fiddle", "aird-scottish")
_MAX_GAP_SECONDS = 0.6  # longest silence allowed inside a mixture excerpt
_MIN_COVERAGE = 0.9  # share of the excerpt during which something sounds
_PITCH_LIMITS = (24, 103)  # transpositions keep every note inside C1-G7


@dataclass(frozen=True)
class SizeConfig:
    """Clip counts of one build size; tuples are ``(train, valid, test)`` clip counts.

    Attributes
    ----------
    notes : tuple of int
    note_pitches : tuple of int
        ``(lowest, highest)`` MIDI pitch of the notes task (its classes).
    key : tuple of int
        Multiples of 24 keep the 24 keys balanced.
    tags : tuple of int
    style_per_class : tuple of int
        Per style class (9 classes).
    unlabeled : tuple of int
    min_tag_count : int
        A tag is kept when it occurs at least this often in train (and once in valid and
        in test, so that per-tag AUROC is defined).
    excerpt_multiplier : int
        Multiplies how many excerpts one work may give (tiny: few works, fast parse).
    """

    notes: tuple[int, int, int]
    note_pitches: tuple[int, int]
    key: tuple[int, int, int]
    tags: tuple[int, int, int]
    style_per_class: tuple[int, int, int]
    unlabeled: tuple[int, int, int]
    min_tag_count: int
    excerpt_multiplier: int = 1


SIZES: dict[str, SizeConfig] = {
    # Tests: a few dozen clips per task, every split and every style class present.
    "tiny": SizeConfig(notes=(40, 12, 12), note_pitches=(48, 72), key=(24, 12, 12),
                       tags=(32, 10, 10), style_per_class=(2, 1, 1), unlabeled=(32, 8, 0),
                       min_tag_count=1, excerpt_multiplier=4),
    # The demo default: <= 5 min on 2 cores, < 1 GB of 16-bit WAV.
    "small": SizeConfig(notes=(1000, 200, 200), note_pitches=(36, 96), key=(384, 96, 120),
                        tags=(400, 60, 80), style_per_class=(36, 8, 10),
                        unlabeled=(950, 50, 0), min_tag_count=5),
    # Towards the paper's class counts (NSynth 88 piano pitches, GiantSteps 961/198/604
    # tracks, GTZAN ~443/197/290 over 10 genres, FMA-medium-like unlabeled pool).
    "full": SizeConfig(notes=(10000, 1500, 1500), note_pitches=(21, 108), key=(960, 192, 600),
                       tags=(4000, 600, 1000), style_per_class=(50, 22, 32),
                       unlabeled=(9000, 1000, 0), min_tag_count=10),
}


@dataclass(frozen=True)
class ClipSpec:
    """Everything needed to render and list one clip.

    Attributes
    ----------
    clip_id : str
        File stem, ``"<task>_<index:05d>"``.
    split : str
    tracks : tuple of Track
    n_samples : int
    pitch : int or None
        Labelled MIDI pitch of a single-note clip (its render is pitch-checked).
    labels : dict of str to str
        Label columns of the manifest.
    meta : dict of str to str
        Provenance columns (``meta_`` prefix added by the builder).
    """

    clip_id: str
    split: str
    tracks: tuple[Track, ...]
    n_samples: int
    pitch: int | None
    labels: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)


def _rng(seed: int, *keys: int | str) -> np.random.Generator:
    """Return a generator seeded by ``seed`` and ``keys`` (strings hashed), one per key tuple."""
    words = [int(seed)] + [k if isinstance(k, int) else
                           int(hashlib.sha256(k.encode()).hexdigest()[:8], 16) for k in keys]
    return np.random.default_rng(words)


def _slots(counts: tuple[int, int, int]) -> list[str]:
    """Split of each slot, train slots first: ``(2, 1, 0)`` -> ["train", "train", "valid"]."""
    return [s for s, n in zip(SPLITS, counts, strict=True) for _ in range(n)]


class _Planner:
    """Shared slot bookkeeping: ``candidate(index, attempt)`` is defined by each task."""

    task = ""

    def __init__(self, counts: tuple[int, int, int], seed: int, sample_rate: int) -> None:
        self.splits = _slots(counts)
        self.seed = int(seed)
        self.sample_rate = int(sample_rate)
        self.ordinal = _ordinals(self.splits)  # index of each slot inside its split

    def __len__(self) -> int:
        return len(self.splits)

    def clip_id(self, index: int) -> str:
        return f"{self.task}_{index:05d}"

    def rng(self, index: int, attempt: int) -> np.random.Generator:
        return _rng(self.seed, _TASK_CODE[self.task], index, attempt)

    def candidate(self, index: int, attempt: int) -> ClipSpec | None:  # pragma: no cover
        raise NotImplementedError


def _ordinals(splits: list[str]) -> list[int]:
    """Index of each slot among the slots of its split."""
    seen: Counter = Counter()
    out = []
    for s in splits:
        out.append(seen[s])
        seen[s] += 1
    return out


# ---------------------------------------------------------------------------------------------
# notes (NSynth-like)
# ---------------------------------------------------------------------------------------------


def split_note_programs(seed: int, pitches: tuple[int, int]) -> dict[str, tuple[int, ...]]:
    """Hold out instruments: ``{"train": programs, "valid": ..., "test": ...}``.

    Within each GM family that has at least three usable programs, one program goes to
    test and one to valid (drawn with ``seed``); the rest train. The draw is repeated
    (deterministically) until every split can play every pitch of ``pitches``.

    Raises
    ------
    ValueError
        If no draw covers the pitch range (range wider than the instruments allow).
    """
    families: dict[str, list[int]] = {}
    for program in gm.NOTE_PROGRAMS:
        families.setdefault(gm.program_family(program), []).append(program)
    lo, hi = pitches
    for draw in range(1000):
        rng = _rng(seed, "notes-split", draw)
        split = {"train": [], "valid": [], "test": []}
        for members in families.values():
            order = [members[i] for i in rng.permutation(len(members))]
            if len(order) >= 3:
                split["test"].append(order[0])
                split["valid"].append(order[1])
                order = order[2:]
            split["train"].extend(order)
        covered = all(
            any(gm.PLAYABLE_RANGES[p][0] <= pitch <= gm.PLAYABLE_RANGES[p][1] for p in progs)
            for progs in split.values() for pitch in range(lo, hi + 1))
        if covered:
            return {s: tuple(sorted(p)) for s, p in split.items()}
    raise ValueError(f"note_pitches={pitches} cannot be covered by held-out instruments in "
                     f"every split; narrow the range (e.g. 21-108 at most)")


class NotesPlanner(_Planner):
    """Single notes: a uniform spread of pitches, each played by an instrument of its split.

    Slot ``j`` of a split gets pitch ``lo + perm[j mod n_pitches]`` (a seeded permutation per
    split, so classes are balanced); each attempt draws an instrument of that split that can
    play the pitch, and a velocity from {50, 75, 100, 127}. The note is held 3 s and the clip
    lasts 4 s (NSynth).
    """

    task = "notes"

    def __init__(self, size: SizeConfig, seed: int, sample_rate: int) -> None:
        super().__init__(size.notes, seed, sample_rate)
        self.pitches = size.note_pitches
        self.programs = split_note_programs(seed, size.note_pitches)
        n = size.note_pitches[1] - size.note_pitches[0] + 1
        self.order = {s: _rng(seed, "notes-pitch-order", s).permutation(n) for s in SPLITS}

    @property
    def classes(self) -> dict[str, list[str]]:
        """Class lists of the three label fields (pitch ascending, programs by number)."""
        programs = sorted(p for progs in self.programs.values() for p in progs)
        families = list(dict.fromkeys(gm.program_family(p) for p in programs))
        return {"pitch": [str(p) for p in range(self.pitches[0], self.pitches[1] + 1)],
                "instrument": [gm.program_name(p) for p in programs], "family": families}

    def candidate(self, index: int, attempt: int) -> ClipSpec:
        """Plan attempt ``attempt`` of slot ``index``."""
        split = self.splits[index]
        order = self.order[split]
        pitch = self.pitches[0] + int(order[self.ordinal[index] % len(order)])
        rng = self.rng(index, attempt)
        able = [p for p in self.programs[split]
                if gm.PLAYABLE_RANGES[p][0] <= pitch <= gm.PLAYABLE_RANGES[p][1]]
        program = int(able[rng.integers(len(able))])
        velocity = int(_NOTE_VELOCITIES[rng.integers(len(_NOTE_VELOCITIES))])
        notes = np.array([[0.0, _NOTE_HOLD_SECONDS, pitch, velocity]])
        return ClipSpec(
            clip_id=self.clip_id(index), split=split,
            tracks=(Track(program, notes),), n_samples=round(NOTE_SECONDS * self.sample_rate),
            pitch=pitch,
            labels={"pitch": str(pitch), "instrument": gm.program_name(program),
                    "family": gm.program_family(program)},
            meta={"program": str(program), "velocity": str(velocity)},
        )


# ---------------------------------------------------------------------------------------------
# Mixtures: excerpts of works, orchestrated
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mixture:
    """A rendered-to-be excerpt and the facts its labels are computed from."""

    tracks: tuple[Track, ...]
    programs: tuple[int, ...]
    bpm: float
    transpose: int
    start_q: float
    drums: bool


def _excerpt(work: Work, start_q: float, window_q: float) -> list[np.ndarray]:
    """Cut the notes of each part sounding in ``[start_q, start_q + window_q)``.

    Returns ``[K, 3]`` arrays ``(onset_q, offset_q, pitch)`` relative to ``start_q``; a note
    already sounding at ``start_q`` starts at 0. Empty parts are left out.
    """
    out = []
    for part in work.parts:
        onset, length, pitch = part[:, 0], part[:, 1], part[:, 2]
        end = onset + length
        keep = (end > start_q + 1e-9) & (onset < start_q + window_q - 1e-9)
        if keep.any():
            out.append(np.stack([np.maximum(onset[keep], start_q) - start_q,
                                 end[keep] - start_q, pitch[keep]], axis=1))
    return out


def _coverage(parts: list[np.ndarray], window_q: float, seconds_per_q: float) -> bool:
    """Something sounds during >= 90 % of the window and no silence exceeds 0.6 s."""
    if not parts:
        return False
    spans = np.concatenate([p[:, :2] for p in parts])
    spans = spans[np.argsort(spans[:, 0], kind="stable")]
    covered, gap, reach = 0.0, spans[0, 0], 0.0
    for onset, offset in spans:
        offset = min(offset, window_q)
        if onset > reach:
            gap = max(gap, onset - reach)
            reach = onset
        if offset > reach:
            covered += offset - reach
            reach = offset
    gap = max(gap, window_q - reach)
    return covered >= _MIN_COVERAGE * window_q and gap * seconds_per_q <= _MAX_GAP_SECONDS


def _pitch_class_weights(parts: list[np.ndarray], window_q: float) -> np.ndarray:
    """``[12]`` sounding duration per pitch class inside the window."""
    weights = np.zeros(12)
    for part in parts:
        durations = np.minimum(part[:, 1], window_q) - part[:, 0]
        np.add.at(weights, part[:, 2].astype(int) % 12, np.maximum(durations, 0.0))
    return weights


def _meter(work: Work) -> tuple[int, int, float]:
    return work.meter or (4, 4, 1.0)


def _windows(work: Work, window_q: float, rng: np.random.Generator) -> list[float]:
    """Candidate excerpt starts (measure starts, else beats), in a seeded random order."""
    last = work.length_q - window_q
    starts = [m for m in work.measures_q.tolist() if m <= last + 1e-9]
    if not starts:
        beat_q = _meter(work)[2]
        starts = list(np.arange(0.0, last + 1e-9, beat_q)) if last >= 0 else []
    return [starts[i] for i in rng.permutation(len(starts))]


def _choose_program(lo: int, hi: int, pool: tuple[int, ...], rng: np.random.Generator) -> int:
    """Pick a program for a part spanning MIDI pitches ``[lo, hi]``.

    A program of ``pool`` whose range holds ``[lo, hi]``; else any mixture program that
    does; else the mixture program whose range overlaps ``[lo, hi]`` most.
    """
    for candidates in (pool, gm.MIXTURE_PROGRAMS):
        able = [p for p in candidates
                if gm.PLAYABLE_RANGES[p][0] <= lo and hi <= gm.PLAYABLE_RANGES[p][1]]
        if able:
            return int(able[rng.integers(len(able))])
    overlap = [min(hi, gm.PLAYABLE_RANGES[p][1]) - max(lo, gm.PLAYABLE_RANGES[p][0])
               for p in gm.MIXTURE_PROGRAMS]
    return int(gm.MIXTURE_PROGRAMS[int(np.argmax(overlap))])


def _drum_notes(work: Work, start_q: float, window_q: float, seconds_per_q: float,
                rng: np.random.Generator) -> np.ndarray:
    """Write a GM drum part following the work's meter and bar lines inside the window.

    Kick on the downbeat (and beat 3 of four), snare on the back beats (beats 2 and 3 of a
    triple bar), hi-hat or ride on every half beat (third of a beat in compound meter),
    an optional crash on the first downbeat. Returns ``[K, 4]`` (onset_s, offset_s, key,
    velocity).
    """
    numerator, denominator, beat_q = _meter(work)
    bar_q = numerator * 4.0 / denominator
    compound = denominator == 8 and numerator % 3 == 0 and numerator > 3
    beats = max(1, round(bar_q / beat_q))
    end_q = start_q + window_q
    bars = [m for m in work.measures_q.tolist() if start_q - bar_q < m < end_q]
    if not bars:
        bars = list(np.arange(math.floor(start_q / bar_q) * bar_q, end_q, bar_q))
    hat = gm.DRUM_NOTES["ride"] if rng.random() < 0.3 else gm.DRUM_NOTES["closed_hat"]
    subdivision = 3 if compound else 2
    hits = []
    for i, bar in enumerate(bars):
        bar_end = bars[i + 1] if i + 1 < len(bars) else bar + bar_q
        for k in range(beats):
            t = bar + k * beat_q
            if t >= bar_end - 1e-9:
                break
            if k == 0 or (beats == 4 and k == 2):
                hits.append((t, gm.DRUM_NOTES["kick"], 100))
            else:
                hits.append((t, gm.DRUM_NOTES["snare"], 90))
            for s in range(subdivision):
                hits.append((t + s * beat_q / subdivision, hat, 70 if s else 80))
    if bars and rng.random() < 0.5:
        hits.append((bars[0], gm.DRUM_NOTES["crash"], 90))
    scale = rng.uniform(0.7, 1.0)
    rows = [((t - start_q) * seconds_per_q, (t - start_q) * seconds_per_q + 0.1, key,
             max(1, min(127, round(v * scale + rng.normal(0, 4)))))
            for t, key, v in hits if start_q - 1e-9 <= t < end_q]
    return np.array(sorted(rows), dtype=np.float64).reshape(-1, 4)


def _drone(parts: list[np.ndarray], work: Work, start_q: float, window_q: float,
           shift: int) -> np.ndarray:
    """Accompany a tune with a drone: its tonic and fifth held for each bar, C3-B3.

    The tonic is the Krumhansl-Schmuckler key of the excerpt's own notes (the tune books'
    key signatures do not always name the mode). Returns ``[K, 3]`` (onset_q, offset_q,
    pitch) relative to ``start_q``, already transposed by ``shift``.
    """
    tonic, _ = parse_key(estimate_key(_pitch_class_weights(parts, window_q)))
    root = 48 + (tonic + shift) % 12
    numerator, denominator, _ = _meter(work)
    bar_q = numerator * 4.0 / denominator
    bars = [m - start_q for m in work.measures_q.tolist() if start_q < m < start_q + window_q]
    edges = [0.0, *bars, window_q]
    rows = [[a, b, pitch] for a, b in zip(edges[:-1], edges[1:], strict=True) if b - a > 1e-6
            for pitch in (root, root + 7)]
    if len(edges) == 2 and window_q > bar_q:  # no bar lines: re-strike every bar_q
        rows = [[a, min(a + bar_q, window_q), pitch] for a in np.arange(0.0, window_q, bar_q)
                for pitch in (root, root + 7)]
    return np.array(rows, dtype=np.float64)


_DRONE_PROGRAMS = (19, 20, 21, 42, 48, 49, 52, 89)  # organs, accordion, cello, strings, choir, pad


def _mixture(work: Work, rng: np.random.Generator, *, palette_probability: float,
             drum_probability: float, tempo_scale: tuple[float, float] = (1.0, 1.0),
             transpose: int | None = None, want_key: tuple[int, str] | None = None,
             drone_probability: float = 0.0, seconds: float = CLIP_SECONDS) -> _Mixture | None:
    """Cut, transpose and orchestrate one excerpt of ``work``; None if no window fits.

    Parameters
    ----------
    work : Work
        The score.
    rng : np.random.Generator
        Source of every choice (tempo, window, programs, velocities, drums).
    palette_probability : float
        Chance that the parts are orchestrated from the collection's palette (else from all
        mixture programs).
    drum_probability : float
        Chance of a drum part.
    tempo_scale : tuple of float
        Range of a factor on the collection's beat tempo.
    transpose : int or None
        Semitones; None draws one in [-6, 5]. Pitches are shifted by octaves where needed to
        stay within C1-G7.
    want_key : (tonic, mode) or None
        Only accept windows whose Krumhansl-Schmuckler key (on the score's notes) is this
        key of the *untransposed* work (used by the key task).
    drone_probability : float
        Chance that a one-part excerpt (a tune) gets a drone accompaniment (:func:`_drone`).
    seconds : float
        Excerpt length.
    """
    collection = COLLECTIONS[work.ref.collection]
    lo_bpm, hi_bpm = collection.beat_bpm
    bpm = float(rng.uniform(lo_bpm, hi_bpm) * rng.uniform(*tempo_scale))
    seconds_per_q = 60.0 / (bpm * _meter(work)[2])
    window_q = seconds / seconds_per_q
    parts = None
    for start_q in _windows(work, window_q, rng)[:12]:
        candidate = _excerpt(work, start_q, window_q)
        if not _coverage(candidate, window_q, seconds_per_q):
            continue
        if want_key is not None:
            weights = _pitch_class_weights(candidate, window_q)
            if weights.sum() <= 0 or estimate_key(weights) != key_name(*want_key):
                continue
        parts = candidate
        break
    if parts is None:
        return None
    shift = int(rng.integers(-6, 6)) if transpose is None else int(transpose)
    lowest = min(p[:, 2].min() for p in parts) + shift
    highest = max(p[:, 2].max() for p in parts) + shift
    while lowest < _PITCH_LIMITS[0] and highest + 12 <= _PITCH_LIMITS[1]:
        shift, lowest, highest = shift + 12, lowest + 12, highest + 12
    while highest > _PITCH_LIMITS[1] and lowest - 12 >= _PITCH_LIMITS[0]:
        shift, lowest, highest = shift - 12, lowest - 12, highest - 12
    use_palette = rng.random() < palette_probability
    pool = collection.palette if use_palette else gm.MIXTURE_PROGRAMS
    pools = [pool] * len(parts)
    if len(parts) == 1 and rng.random() < drone_probability:
        drone = _drone(parts, work, start_q, window_q, shift)
        parts = [*parts, np.column_stack([drone[:, :2], drone[:, 2] - shift])]
        pools.append(_DRONE_PROGRAMS)
    tracks, programs = [], []
    for part, part_pool in zip(parts[:15], pools, strict=False):
        pitches = part[:, 2] + shift
        program = _choose_program(int(pitches.min()), int(pitches.max()), part_pool, rng)
        onset_s = part[:, 0] * seconds_per_q
        length_s = (part[:, 1] - part[:, 0]) * seconds_per_q
        offset_s = onset_s + length_s - np.minimum(0.03, 0.3 * length_s)
        base = rng.uniform(40, 60) if part_pool is _DRONE_PROGRAMS else rng.uniform(64, 100)
        on_beat = np.isclose(np.mod(part[:, 0] + start_q, _meter(work)[2]), 0.0, atol=1e-6)
        velocity = np.clip(np.round(base + 6 * on_beat + rng.normal(0, 4, len(part))), 1, 127)
        tracks.append(Track(program, np.stack([onset_s, offset_s, pitches, velocity], axis=1)))
        programs.append(program)
    drums = bool(rng.random() < drum_probability)
    if drums:
        tracks.append(Track(0, _drum_notes(work, start_q, window_q, seconds_per_q, rng),
                            is_drum=True))
    return _Mixture(tuple(tracks), tuple(programs), bpm, shift, float(start_q), drums)


def _mixture_meta(work: Work, mix: _Mixture) -> dict[str, str]:
    return {"work": work.ref.work_id, "collection": work.ref.collection,
            "start_q": f"{mix.start_q:g}", "bpm": f"{mix.bpm:.1f}", "transpose": str(mix.transpose),
            "programs": ";".join(str(p) for p in mix.programs), "drums": str(int(mix.drums))}


def _mixture_tags(work: Work, mix: _Mixture) -> list[str]:
    """MagnaTagATune-like tags of an excerpt, all read off what is actually rendered.

    Instruments (GM program tags, plus "drums"), ensemble size ("solo" ... "large
    ensemble", melodic parts sounding), tempo ("slow" < 72 bpm, "fast" >= 116 bpm, in beats
    of the time signature), mode ("major"/"minor"/"modal", only from a trustworthy notated
    key), meter ("triple meter" for three beats a bar, "compound meter" for 6/8, 9/8, 12/8)
    and the collection's style tags.
    """
    tags = {t for p in mix.programs for t in gm.program_tags(p)}
    if mix.drums:
        tags.add("drums")
    n_parts = len(mix.programs)
    tags.add({1: "solo", 2: "duet", 3: "trio", 4: "quartet"}.get(n_parts, "large ensemble"))
    if mix.bpm < 72:
        tags.add("slow")
    elif mix.bpm >= 116:
        tags.add("fast")
    notated = work.notated_key
    if notated is not None:
        tags.add(notated[1] if notated[1] in ("major", "minor") else "modal")
    if work.meter is not None:
        numerator, denominator, _ = work.meter
        compound = denominator == 8 and numerator % 3 == 0 and numerator > 3
        if numerator == 3 or (compound and numerator == 9):
            tags.add("triple meter")
        if compound:
            tags.add("compound meter")
    tags.update(COLLECTIONS[work.ref.collection].style_tags)
    return sorted(tags)


def _order(refs: list[WorkRef], seed: int, salt: str) -> list[WorkRef]:
    """``refs`` in a seeded order that does not depend on the order they came in."""
    return sorted(refs, key=lambda r: hashlib.sha256(f"{seed}:{salt}:{r.work_id}".encode())
                  .hexdigest())


class _MixturePlanner(_Planner):
    """Slots cycle through per-split work pools; each attempt is a fresh excerpt."""

    def __init__(self, counts, seed, sample_rate, pools: dict[str, dict[str, list[Work]]]):
        super().__init__(counts, seed, sample_rate)
        self.pools = pools  # split -> collection -> works (parsed, in cycling order)

    def _pick(self, split: str, collection: str, ordinal: int, attempt: int,
              rng: np.random.Generator) -> Work | None:
        pool = self.pools.get(split, {}).get(collection, [])
        if not pool:
            return None
        return pool[ordinal % len(pool)] if attempt == 0 else pool[rng.integers(len(pool))]

    def n_samples(self) -> int:
        return round(CLIP_SECONDS * self.sample_rate)


class _OrchestratedPlanner(_MixturePlanner):
    """Orchestrated excerpts of a slot's collection, labelled by :meth:`labels` (style, tags)."""

    def slot(self, index: int) -> tuple[str, int]:  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def labels(self, collection: str, work: Work, mix) -> dict[str, str]:  # pragma: no cover
        raise NotImplementedError

    def candidate(self, index: int, attempt: int) -> ClipSpec | None:
        """Plan attempt ``attempt`` of slot ``index`` (None: no usable excerpt)."""
        split = self.splits[index]
        collection, ordinal = self.slot(index)
        rng = self.rng(index, attempt)
        work = self._pick(split, collection, ordinal, attempt, rng)
        if work is None:
            return None
        mix = _mixture(work, rng, palette_probability=0.75,
                       drum_probability=COLLECTIONS[collection].drum_probability,
                       drone_probability=0.4)
        if mix is None:
            return None
        return ClipSpec(self.clip_id(index), split, mix.tracks, self.n_samples(), None,
                        self.labels(collection, work, mix), _mixture_meta(work, mix))


class StylePlanner(_OrchestratedPlanner):
    """GTZAN-like: balanced classes, slot ``j`` of a split plays collection ``j mod 9``."""

    task = "style"

    def __init__(self, size: SizeConfig, seed: int, sample_rate: int, pools) -> None:
        counts = tuple(n * len(STYLE_CLASSES) for n in size.style_per_class)
        super().__init__(counts, seed, sample_rate, pools)

    def slot(self, index: int) -> tuple[str, int]:
        """Return the collection of slot ``index`` and its ordinal among that collection's slots."""
        ordinal = self.ordinal[index]
        return STYLE_CLASSES[ordinal % len(STYLE_CLASSES)], ordinal // len(STYLE_CLASSES)

    def labels(self, collection: str, work: Work, mix) -> dict[str, str]:
        """Label a planned excerpt with its collection."""
        return {"style": collection}


class TagsPlanner(_OrchestratedPlanner):
    """MagnaTagATune-like multi-label excerpts.

    Collections are drawn with weights ~ (number of groups) ** (1/4) (:func:`tags_weights`),
    so tag frequencies are skewed like real tag data; tags are read off each rendered
    excerpt, and one-part tunes get a drone accompaniment 40 % of the time.
    """

    task = "tags"

    def __init__(self, size: SizeConfig, seed: int, sample_rate: int, pools,
                 weights: dict[str, float]) -> None:
        super().__init__(size.tags, seed, sample_rate, pools)
        self.weights = weights
        names = list(weights)
        p = np.array([weights[n] for n in names])
        draw = _rng(seed, "tags-collections").choice(len(names), size=len(self), p=p / p.sum())
        self.collection = [names[i] for i in draw]
        # ordinal of a slot among slots of the same split and collection (work cycling)
        seen: Counter = Counter()
        self.work_ordinal = []
        for split, name in zip(self.splits, self.collection, strict=True):
            self.work_ordinal.append(seen[split, name])
            seen[split, name] += 1

    def slot(self, index: int) -> tuple[str, int]:
        """Return the collection of slot ``index`` and its ordinal among that collection's slots."""
        return self.collection[index], self.work_ordinal[index]

    def labels(self, collection: str, work: Work, mix) -> dict[str, str]:
        """Label a planned excerpt with the tags read off its rendered parts."""
        return {"tags": "|".join(_mixture_tags(work, mix))}


class UnlabeledPlanner(_MixturePlanner):
    """FMA-like excerpts without labels.

    Any collection (uniformly), any mixture programs, transposed by -6..+5 semitones, tempo
    x0.7-1.4 of the collection's range, drums in 30 % of clips. Works come from the train
    split only.
    """

    task = "unlabeled"

    def candidate(self, index: int, attempt: int) -> ClipSpec | None:
        """Plan attempt ``attempt`` of slot ``index`` (None: no usable excerpt)."""
        split, ordinal = self.splits[index], self.ordinal[index]
        rng = self.rng(index, attempt)
        collection = STYLE_CLASSES[int(rng.integers(len(STYLE_CLASSES)))]
        # train works only, for the valid clips too: they monitor the pre-training loss
        work = self._pick("train", collection, ordinal // len(STYLE_CLASSES), attempt, rng)
        if work is None:
            return None
        mix = _mixture(work, rng, palette_probability=0.0, drum_probability=0.3,
                       tempo_scale=(0.7, 1.4), drone_probability=0.4)
        if mix is None:
            return None
        return ClipSpec(self.clip_id(index), split, mix.tracks, self.n_samples(), None, {},
                        _mixture_meta(work, mix))


class KeyPlanner(_MixturePlanner):
    """GiantSteps-like: works with a notated major/minor key, transposed to a target key.

    Slot ``j`` of a split targets key ``perm[j mod 24]`` (a seeded permutation per split,
    so the 24 classes are balanced); a work of the target's mode is transposed there by
    -6..+5 semitones (MIDI domain). Only excerpts whose Krumhansl-Schmuckler key, computed on
    the score's notes, equals the notated key are used, so the label holds for the excerpt,
    not only for the whole work. Chorales and tunes alternate in each mode's work list, so
    about half the clips are four-part harmony. Orchestration: any mixture programs (half
    the time the collection's palette), drums in 30 % of clips.
    """

    task = "key"

    def __init__(self, size: SizeConfig, seed: int, sample_rate: int, pools) -> None:
        super().__init__(size.key, seed, sample_rate, pools)
        self.order = {s: _rng(seed, "key-order", s).permutation(24) for s in SPLITS}
        # per split and mode: works of the key collections with that notated mode
        self.by_mode = {
            split: {mode: [w for c in _KEY_COLLECTIONS for w in by_collection.get(c, [])
                           if w.notated_key is not None and w.notated_key[1] == mode]
                    for mode in ("major", "minor")}
            for split, by_collection in pools.items()}
        for split, by_mode in self.by_mode.items():
            for mode, works in by_mode.items():
                # alternate four-part chorales and tunes, so half the clips are polyphonic
                chorales = _order_works([w for w in works if w.ref.collection == "bach-chorales"],
                                        seed, f"key-{split}-{mode}")
                tunes = _order_works([w for w in works if w.ref.collection != "bach-chorales"],
                                     seed, f"key-{split}-{mode}")
                by_mode[mode] = _interleave(chorales, tunes)

    def candidate(self, index: int, attempt: int) -> ClipSpec | None:
        """Plan attempt ``attempt`` of slot ``index`` (None: no usable excerpt)."""
        split, ordinal = self.splits[index], self.ordinal[index]
        target = KEY_CLASSES[int(self.order[split][ordinal % 24])]
        tonic, mode = parse_key(target)
        works = self.by_mode.get(split, {}).get(mode, [])
        if not works:
            return None
        rng = self.rng(index, attempt)
        # slots of one mode take consecutive works; retries draw at random
        work = works[(ordinal // 2) % len(works)] if attempt == 0 else \
            works[rng.integers(len(works))]
        source_tonic, _ = work.notated_key
        shift = (tonic - source_tonic + 6) % 12 - 6
        mix = _mixture(work, rng, palette_probability=0.5, drum_probability=0.3,
                       transpose=shift, want_key=work.notated_key)
        if mix is None:
            return None
        meta = _mixture_meta(work, mix) | {"source_key": key_name(*work.notated_key)}
        return ClipSpec(self.clip_id(index), split, mix.tracks, self.n_samples(), None,
                        {"key": target}, meta)


def _interleave(first: list, second: list) -> list:
    """``[a0, b0, a1, b1, ...]``, the longer list's tail at the end."""
    out = [x for pair in zip(first, second, strict=False) for x in pair]
    n = min(len(first), len(second))
    return out + first[n:] + second[n:]


def _order_works(works: list[Work], seed: int, salt: str) -> list[Work]:
    return sorted(works, key=lambda w: hashlib.sha256(f"{seed}:{salt}:{w.ref.work_id}".encode())
                  .hexdigest())


def tags_weights(refs: list[WorkRef]) -> dict[str, float]:
    """Return the collection weights of the tags task: (number of groups) ** (1/4).

    Large collections (thousands of folk tunes) are drawn more often than small ones (eleven
    quartet opera), but not in proportion, so tag frequencies are skewed (~45 % for the
    commonest tag, ~2 % for the rarest) without one style swamping the task.
    """
    groups: dict[str, set[str]] = {}
    for ref in refs:
        groups.setdefault(ref.collection, set()).add(ref.group)
    return {name: len(groups.get(name, ())) ** 0.25 for name in STYLE_CLASSES}


def works_needed(size: SizeConfig, refs: list[WorkRef], splits: dict[str, str], seed: int,
                 abc_modes: dict[str, str]) -> tuple[list[WorkRef], dict]:
    """Which works to parse, and the per-split, per-collection cycling order of each pool.

    Every task takes works from the front of one seeded order per (collection, split), so
    tasks share works and the number of scores to parse stays small. Key works are taken
    from the front of the major and the minor tunes separately (ABC modes come from the
    books' ``K:`` fields, ``abc_modes``) and from the front of the chorales.

    Returns
    -------
    to_parse : list of WorkRef
        Sorted by ``work_id``.
    pools : dict
        ``split -> collection -> [WorkRef]`` in cycling order (only works to parse).
    """
    ordered: dict[tuple[str, str], list[WorkRef]] = {}
    for ref in refs:
        ordered.setdefault((splits[ref.group], ref.collection), []).append(ref)
    ordered = {k: _order(v, seed, f"{k[0]}-{k[1]}") for k, v in ordered.items()}
    need: Counter = Counter()

    def ask(split: str, collection: str, clips: float, reuse: int = 1) -> None:
        per_work = _EXCERPTS_PER_WORK[collection] * size.excerpt_multiplier * reuse
        n = math.ceil(1.2 * clips / per_work) + 1
        need[split, collection] = max(need[split, collection], n)

    weights = tags_weights(refs)
    total = sum(weights.values())
    for i, split in enumerate(SPLITS):
        for collection in STYLE_CLASSES:
            ask(split, collection, size.style_per_class[i])
            ask(split, collection, size.tags[i] * weights[collection] / total)
        if size.unlabeled[i]:
            for collection in STYLE_CLASSES:
                # unlabeled clips may reuse a work twice as often (nothing is evaluated on
                # them), which halves the slow-to-parse quartets and madrigals
                ask("train", collection, size.unlabeled[i] / len(STYLE_CLASSES), reuse=2)
    pools = {(s, c): list(v[:need[s, c]]) for (s, c), v in ordered.items()}
    # key: half the clips per mode; each work gives ~2 clips (several keys, excerpts)
    for i, split in enumerate(SPLITS):
        per_mode = size.key[i] / 2
        for mode in ("major", "minor"):
            abc = [r for c in _KEY_COLLECTIONS if c != "bach-chorales"
                   for r in ordered.get((split, c), []) if abc_modes.get(r.work_id) == mode]
            n = math.ceil(per_mode / (2 * size.excerpt_multiplier)) + 2
            # half from the tune books; chorales are about half major, half minor, so the
            # first n chorales give ~n/2 of each mode
            chosen = _order(abc, seed, f"key-{split}-{mode}")[:n // 2 + 1] + \
                ordered.get((split, "bach-chorales"), [])[:n]
            for ref in chosen:
                pool = pools.setdefault((split, ref.collection), [])
                if ref not in pool:
                    pool.append(ref)
    nested: dict[str, dict[str, list[WorkRef]]] = {}
    for (split, collection), pool in pools.items():
        if pool:
            nested.setdefault(split, {})[collection] = pool
    to_parse = sorted({r for pool in pools.values() for r in pool})
    return to_parse, nested


def tag_vocabulary(tag_lists: list[list[str]], splits: list[str], min_count: int) -> list[str]:
    """Choose the tags kept as classes.

    Kept: >= ``min_count`` train occurrences and >= 1 in valid and in test (when those
    splits exist); ordered by train frequency (descending), then name.
    """
    counts = {s: Counter(t for tags, sp in zip(tag_lists, splits, strict=True) if sp == s
                         for t in tags) for s in SPLITS}
    present = [s for s in ("valid", "test") if s in splits]
    keep = [t for t, n in counts["train"].items()
            if n >= min_count and all(counts[s][t] >= 1 for s in present)]
    return sorted(keep, key=lambda t: (-counts["train"][t], t))
