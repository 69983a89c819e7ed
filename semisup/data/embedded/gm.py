"""General MIDI facts the embedded benchmark relies on: programs, families, ranges, drums.

The embedded benchmark (``python -m semisup.data.embedded.build``) renders real scores with the
samples of a General MIDI SoundFont. This module holds the instrument side of it: which GM
programs are usable, their names and families, the pitch range each can play, and the drum
notes used for beats.

Conventions
-----------
- Programs are 0-based GM program numbers (0 = Acoustic Grand Piano ... 127 = Gunshot);
  names and families come from ``pretty_midi`` (``program_to_instrument_name`` /
  ``program_to_instrument_class``), so they match the GM 1 specification's wording.
- Pitches are MIDI note numbers (60 = middle C = C4, 69 = A4 = 440 Hz).
- ``PLAYABLE_RANGES`` are *nominal* ranges (lowest, highest playable MIDI note, inclusive)
  taken from standard orchestration tables for acoustic instruments (e.g. violin G3-E7 =
  55-100, flute C4-C7 = 60-96) and a practical C2-C7 for synthesisers. The builder additionally checks every rendered note's
  pitch and drops wrong-pitch renders, so a range that is slightly too wide costs a dropped
  note, never a wrong label.
- Excluded programs: sound effects and percussive programs (112-127), the synth effects
  96-103, Orchestra Hit (55), and the pitched programs whose TimGM6mb samples fail a pitch
  check over most of their range (Celesta 8, Glockenspiel 9, Whistle 78; REFERENCE.md).
"""

from __future__ import annotations

import pretty_midi

__all__ = [
    "PLAYABLE_RANGES",
    "MELODIC_PROGRAMS",
    "NOTE_PROGRAMS",
    "MIXTURE_PROGRAMS",
    "program_name",
    "program_family",
    "program_tags",
    "DRUM_NOTES",
]

# Nominal playable ranges, (lowest, highest) MIDI note inclusive, per usable GM program.
PLAYABLE_RANGES: dict[int, tuple[int, int]] = {
    # Piano (keyboards): 88-key piano A0-C8; harpsichord F1-F6; electric pianos/clavinet E1-G7.
    0: (21, 108), 1: (21, 108), 2: (21, 108), 3: (21, 108),
    4: (28, 103), 5: (28, 103), 6: (29, 89), 7: (36, 96),
    # Chromatic percussion (8 Celesta, 9 Glockenspiel excluded).
    10: (60, 96), 11: (53, 89), 12: (45, 96), 13: (65, 108), 14: (60, 77), 15: (48, 84),
    # Organs, accordions, harmonica.
    16: (36, 96), 17: (36, 96), 18: (36, 96), 19: (24, 96),
    20: (36, 89), 21: (41, 89), 22: (60, 84), 23: (41, 89),
    # Guitars: standard tuning E2 = 40 up to ~D6; harmonics sound an octave up.
    24: (40, 83), 25: (40, 84), 26: (40, 86), 27: (40, 86),
    28: (40, 84), 29: (40, 86), 30: (40, 86), 31: (52, 88),
    # Basses: four-string E1 = 28 up to G4; synth basses C1-C5.
    32: (28, 67), 33: (28, 67), 34: (28, 67), 35: (28, 67),
    36: (28, 67), 37: (28, 67), 38: (24, 60), 39: (24, 60),
    # Strings: violin G3-E7 (trimmed), viola C3-E6, cello C2-E5, contrabass E1-C4, harp C1-G7.
    40: (55, 100), 41: (48, 86), 42: (36, 76), 43: (28, 60),
    44: (36, 96), 45: (36, 91), 46: (24, 103), 47: (40, 55),
    # Ensembles: string sections, synth strings, choir (bass E2 to soprano A5), synth voice.
    48: (28, 96), 49: (28, 96), 50: (36, 96), 51: (36, 96),
    52: (40, 81), 53: (40, 81), 54: (40, 84),
    # Brass: trumpet F#3-C6, trombone E2-C5, tuba E1-A#3, horn A#1-F5.
    56: (54, 84), 57: (40, 72), 58: (28, 58), 59: (54, 82),
    60: (34, 77), 61: (36, 84), 62: (36, 96), 63: (36, 96),
    # Reeds: saxophones (written ranges transposed to sounding), oboe, cor anglais, bassoon,
    # clarinet in B-flat.
    64: (56, 88), 65: (49, 81), 66: (44, 76), 67: (36, 69),
    68: (58, 91), 69: (52, 81), 70: (34, 75), 71: (50, 91),
    # Pipes: piccolo D5-C8, flute C4-C7, recorder/pan flute, bottle, shakuhachi, ocarina
    # (78 Whistle excluded).
    72: (74, 108), 73: (60, 96), 74: (60, 96), 75: (60, 96),
    76: (60, 84), 77: (55, 84), 79: (60, 84),
    # Synth leads and pads: sampled synths, C2-C7.
    80: (36, 96), 81: (36, 96), 82: (36, 96), 83: (36, 96),
    84: (36, 96), 85: (36, 96), 86: (36, 96), 87: (36, 96),
    88: (36, 96), 89: (36, 96), 90: (36, 96), 91: (36, 96),
    92: (36, 96), 93: (36, 96), 94: (36, 96), 95: (36, 96),
    # "Ethnic": sitar, banjo, shamisen, koto, kalimba, bagpipe chanter (G4-A5 plus a
    # margin), fiddle (as violin), shanai.
    104: (48, 84), 105: (48, 84), 106: (50, 86), 107: (55, 91),
    108: (60, 84), 109: (55, 77), 110: (55, 96), 111: (60, 84),
}

MELODIC_PROGRAMS: tuple[int, ...] = tuple(sorted(PLAYABLE_RANGES))
"""Usable melodic GM programs, ascending."""

# Programs whose TimGM6mb notes fail the builder's pitch check (YIN, 50 cents, octave
# included) over more than a fifth of their range (measured over every note of every range at
# velocities 50 and 127): drawbar/percussive/rock/church organs (16-19) sound an octave low
# (their 16' sub-octave stop sets the period), the accordions (21, 23) are tuned with detuned
# "musette" reeds (~50 cents off), Guitar Harmonics (31) sound two octaves up, Timpani (47)
# an octave low, Lead 5 (charang, 84) an octave up from C#5, Lead 7 (fifths, 86) is two
# pitches at once. They are fine in mixtures but are not used for labelled single notes.
_NOT_FOR_NOTES = frozenset({16, 17, 18, 19, 21, 23, 31, 47, 84, 86})

NOTE_PROGRAMS: tuple[int, ...] = tuple(p for p in MELODIC_PROGRAMS if p not in _NOT_FOR_NOTES)
"""Programs used for the NSynth-like ``notes`` task (single notes with a pitch label)."""

MIXTURE_PROGRAMS: tuple[int, ...] = tuple(p for p in MELODIC_PROGRAMS if p != 86)
"""Programs used in mixtures; Lead 7 (fifths) is left out because it adds a parallel fifth
to every note, which would blur the pitch classes the ``key`` labels rest on."""

# Instrument tags (MagnaTagATune-like vocabulary) of each usable program. Every program gets
# one broad tag; some get a second, more specific one (MTAT has both "strings" and "violin").
_TAG_RANGES: tuple[tuple[range, tuple[str, ...]], ...] = (
    (range(0, 6), ("piano",)),
    (range(6, 7), ("harpsichord",)),
    (range(7, 8), ("piano",)),
    (range(8, 16), ("mallets",)),
    (range(16, 21), ("organ",)),
    (range(21, 22), ("accordion",)),
    (range(22, 23), ("harmonica",)),
    (range(23, 24), ("accordion",)),
    (range(24, 29), ("guitar",)),
    (range(29, 31), ("guitar", "electric guitar")),
    (range(31, 32), ("guitar",)),
    (range(32, 40), ("bass",)),
    (range(40, 41), ("strings", "violin")),
    (range(41, 42), ("strings",)),
    (range(42, 43), ("strings", "cello")),
    (range(43, 46), ("strings",)),
    (range(46, 47), ("harp",)),
    (range(47, 48), ("percussion",)),
    (range(48, 50), ("strings",)),
    (range(50, 52), ("strings", "synth")),
    (range(52, 54), ("vocal", "choir")),
    (range(54, 55), ("vocal", "synth")),
    (range(56, 62), ("brass",)),
    (range(62, 64), ("brass", "synth")),
    (range(64, 68), ("sax",)),
    (range(68, 72), ("woodwind",)),
    (range(72, 80), ("woodwind", "flute")),
    (range(80, 96), ("synth",)),
    (range(104, 105), ("sitar",)),
    (range(105, 106), ("banjo",)),
    (range(106, 108), ("plucked",)),
    (range(108, 109), ("mallets",)),
    (range(109, 110), ("bagpipe",)),
    (range(110, 111), ("strings", "violin", "fiddle")),
    (range(111, 112), ("woodwind",)),
)

# GM percussion key map (channel 10), the few notes the beat patterns use.
DRUM_NOTES: dict[str, int] = {
    "kick": 36,          # Bass Drum 1
    "snare": 38,         # Acoustic Snare
    "closed_hat": 42,    # Closed Hi Hat
    "open_hat": 46,      # Open Hi-Hat
    "ride": 51,          # Ride Cymbal 1
    "crash": 49,         # Crash Cymbal 1
    "tambourine": 54,    # Tambourine
    "low_tom": 45,       # Low Tom
}


def _check_program(program: int) -> int:
    if isinstance(program, bool) or not isinstance(program, int) or program not in PLAYABLE_RANGES:
        raise ValueError(
            f"program={program!r} is not a usable melodic GM program; choose one of "
            f"semisup.data.embedded.gm.MELODIC_PROGRAMS (0-111 without 8, 9, 55, 78, 96-103)"
        )
    return program


def program_name(program: int) -> str:
    """GM name of ``program`` (e.g. 0 -> "Acoustic Grand Piano"), as pretty_midi spells it."""
    return pretty_midi.program_to_instrument_name(_check_program(program))


def program_family(program: int) -> str:
    """GM family of ``program`` (e.g. 40 -> "Strings"): the NSynth-like ``family`` label."""
    return pretty_midi.program_to_instrument_class(_check_program(program))


def program_tags(program: int) -> tuple[str, ...]:
    """Instrument tags of ``program`` for the ``tags`` task (e.g. 42 -> ("strings", "cello"))."""
    _check_program(program)
    for programs, tags in _TAG_RANGES:
        if program in programs:
            return tags
    raise AssertionError(f"program {program} has a range but no tags")  # table invariant
