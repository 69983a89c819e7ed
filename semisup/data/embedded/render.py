"""Render note lists with a General MIDI SoundFont (tinysoundfont) and check the audio.

The embedded benchmark turns real scores into audio here: each clip is a list of
:class:`Track` (one GM program or the drum kit, with timed notes), rendered sample-exactly
by TinySoundFont, peak-normalised, and checked (non-silent; for single notes, the pitch).

Conventions
-----------
- Audio is float32 mono ``[L]`` at ``sample_rate`` Hz (22 050 by default).
- Notes are ``[K, 4]`` float64 rows ``(onset_s, offset_s, midi_pitch, velocity)``, times in
  seconds from the clip start, velocity 1-127 (MIDI). Events are rendered at the exact
  sample ``round(t * sample_rate)``; at equal times note-offs come before note-ons, so a
  repeated note re-strikes.
- Note ends: many GM presets release a note within a few milliseconds (TimGM6mb's
  Clavinet and Lead 8 stop 4 ms after the note-off), and sustained pads still sound at the
  clip end; both would end in a click, which real instruments do not make and which an
  encoder could learn in place of pitch. So a single-note clip gets a release of at least
  ``MIN_RELEASE_SECONDS`` (a raised-cosine fade from the held note into the preset's own
  release, which it leaves unchanged where the preset's is longer), and every clip fades
  out over its last ``END_FADE_SECONDS``.
- Normalisation (all tasks): **peak** normalisation to ``PEAK_DBFS`` = -1 dBFS (peak
  amplitude 0.891). Peak rather than RMS because a decaying single note (NSynth-like) and
  a dense mixture then both use the full 16-bit range without clipping.
- A clip is *silent* when its raw peak is below ``SILENCE_PEAK`` (-80 dBFS): it is never
  written. Every clip's RMS after normalisation must reach ``MIN_RMS_DBFS``; mixtures must
  also have no 1-second window quieter than ``MIN_WINDOW_RMS_DBFS`` (so any two adjacent
  views hold music).
- Pitch of a rendered note: YIN (de Cheveigné & Kawahara, 2002) on frames from 0.1 s to
  1.0 s after the onset, median over voiced frames. A note is kept when the estimate is
  within 50 cents of the label, octave included (no octave errors are tolerated).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi

__all__ = [
    "SoundFontError",
    "SoundFont",
    "default_soundfont",
    "load_soundfont",
    "Track",
    "Renderer",
    "normalise_peak",
    "rms_dbfs",
    "estimate_f0",
    "check_audio",
    "PEAK_DBFS",
    "MIN_RELEASE_SECONDS",
    "END_FADE_SECONDS",
]

PEAK_DBFS = -1.0
SILENCE_PEAK = 1e-4  # -80 dBFS: TinySoundFont renders exact zeros when nothing sounds
MIN_RMS_DBFS = -45.0  # after peak normalisation; a 4 s kalimba note sits near -30 dBFS
MIN_WINDOW_RMS_DBFS = -50.0  # mixtures: quietest 1 s window after normalisation
PITCH_TOLERANCE_CENTS = 50.0
MIN_RELEASE_SECONDS = 0.1  # shortest release of a single note; real releases last 50 ms or more
END_FADE_SECONDS = 0.1  # fade-out over the end of every clip (notes still sounding there)
DRUM_CHANNEL = 9  # GM channel 10
_MELODIC_CHANNELS = tuple(c for c in range(16) if c != DRUM_CHANNEL)


class SoundFontError(ValueError):
    """The SoundFont is missing, unreadable or lacks General MIDI presets (message says which)."""


@dataclass(frozen=True)
class SoundFont:
    """A validated SoundFont file: its bytes, identity and licence.

    Attributes
    ----------
    path : Path
        Absolute path of the ``.sf2`` file.
    data : bytes
        The file content (what :class:`Renderer` loads in each worker).
    sha256 : str
        Hex digest of ``data``: the identity recorded in ``meta.json``.
    licence : str
        Licence note for known SoundFonts, else "unknown (see the SoundFont's documentation)".
    """

    path: Path
    data: bytes
    sha256: str
    licence: str

    def describe(self) -> dict:
        """JSON-ready description for ``meta.json`` (name, path, size, sha256, licence)."""
        return {"name": self.path.name, "path": str(self.path), "bytes": len(self.data),
                "sha256": self.sha256, "licence": self.licence}


_KNOWN_LICENCES = {
    "timgm6mb.sf2": "GPL-2.0 (TimGM6mb by Tim Brechbill; shipped inside the pretty_midi wheel)",
    "fluidr3_gm.sf2": "MIT (FluidR3_GM by Frank Wen; Debian package fluid-soundfont-gm)",
}


def default_soundfont() -> Path:
    """Path of TimGM6mb.sf2 inside the installed pretty_midi package (all 128 GM programs)."""
    return Path(pretty_midi.__file__).resolve().parent / "TimGM6mb.sf2"


def load_soundfont(path: str | os.PathLike | None = None,
                   programs: tuple[int, ...] = (), drums: bool = True) -> SoundFont:
    """Read and validate a General MIDI SoundFont.

    Parameters
    ----------
    path : path-like or None
        ``.sf2`` file; None -> :func:`default_soundfont` (TimGM6mb).
    programs : tuple of int
        GM programs (bank 0) that must exist in it.
    drums : bool
        Require the GM drum kit (bank 128, preset 0).

    Returns
    -------
    SoundFont

    Raises
    ------
    SoundFontError
        Missing file, not a RIFF/sfbk SoundFont, rejected by TinySoundFont, or a required
        preset is absent. The message names the file and how to fix it.
    """
    import tinysoundfont._tinysoundfont as tsf

    path = Path(default_soundfont() if path is None else path).expanduser()
    hint = ("pass --soundfont PATH to a General MIDI .sf2 (default: TimGM6mb.sf2 shipped with "
            "pretty_midi; Debian's fluid-soundfont-gm installs "
            "/usr/share/sounds/sf2/FluidR3_GM.sf2)")
    if not path.is_file():
        raise SoundFontError(f"SoundFont not found: {path}; {hint}")
    data = path.read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise SoundFontError(f"{path} is not a SoundFont 2 file (no RIFF/sfbk header); {hint}")
    try:
        font = tsf.SoundFont(data)
    except RuntimeError as error:
        raise SoundFontError(f"{path} is corrupt: TinySoundFont cannot load it ({error}); "
                             f"{hint}") from error
    missing = [p for p in programs if font.get_preset_index(0, p) < 0]
    if missing:
        raise SoundFontError(f"{path} lacks General MIDI program(s) {missing[:8]} in bank 0; "
                             f"{hint}")
    if drums and font.get_preset_index(128, 0) < 0:
        raise SoundFontError(f"{path} lacks the GM drum kit (bank 128, preset 0); {hint}")
    licence = _KNOWN_LICENCES.get(path.name.lower(), "unknown (see the SoundFont's documentation)")
    return SoundFont(path=path.resolve(), data=data, sha256=hashlib.sha256(data).hexdigest(),
                     licence=licence)


@dataclass(frozen=True)
class Track:
    """One instrument of a clip.

    Attributes
    ----------
    program : int
        GM program 0-127 (ignored for drums).
    notes : np.ndarray
        ``[K, 4]`` float64 rows ``(onset_s, offset_s, midi_pitch, velocity)``.
    is_drum : bool
        Play on the GM drum channel (pitches are GM percussion keys).
    """

    program: int
    notes: np.ndarray
    is_drum: bool = False


class Renderer:
    """TinySoundFont synthesiser for one process; renders clips deterministically.

    Each :meth:`render` starts from a reset synthesiser (all voices off and faded out,
    channel state reset), so the audio of a clip does not depend on what was rendered
    before it in the same worker.

    Parameters
    ----------
    soundfont : SoundFont
        From :func:`load_soundfont`.
    sample_rate : int
        Output rate in Hz.
    """

    def __init__(self, soundfont: SoundFont, sample_rate: int) -> None:
        import tinysoundfont._tinysoundfont as tsf

        self.sample_rate = int(sample_rate)
        self._font = tsf.SoundFont(soundfont.data)
        self._font.set_output(tsf.OutputMode.Mono, self.sample_rate, 0.0)
        self._font.set_max_voices(256)
        self._flush = np.zeros(8192, dtype=np.float32)

    def render(self, tracks: list[Track], n_samples: int,
               min_release_s: float = 0.0) -> np.ndarray:
        """Render ``tracks`` into ``[n_samples]`` float32 mono audio (not normalised).

        Notes still sounding at the end fade out over the last ``END_FADE_SECONDS``; a
        note-off past the end is ignored.

        Parameters
        ----------
        tracks : list of Track
            The clip's instruments and their notes.
        n_samples : int
            Clip length in samples.
        min_release_s : float
            Shortest release of the note, in seconds (0: the preset's own release). Only for
            a clip of one note: the clip is also rendered with the note held, and from the
            note-off on a raised-cosine weight fades from that held note into the released
            one, so the note's envelope is ``w + (1 - w) * preset_release >= w``.
        """
        if len([t for t in tracks if not t.is_drum]) > len(_MELODIC_CHANNELS):
            raise ValueError(f"at most {len(_MELODIC_CHANNELS)} melodic tracks per clip, got "
                             f"{len(tracks)}")
        audio = self._render_events(tracks, n_samples, note_offs=True)
        if min_release_s > 0:
            if len(tracks) != 1 or len(tracks[0].notes) != 1:
                raise ValueError(f"min_release_s={min_release_s} needs a clip of exactly one "
                                 f"note, got {sum(len(t.notes) for t in tracks)} notes in "
                                 f"{len(tracks)} tracks")
            stop = round(float(tracks[0].notes[0][1]) * self.sample_rate)
            if stop < n_samples:
                held = self._render_events(tracks, n_samples, note_offs=False)
                # same events up to the note-off, and the synthesiser is deterministic
                assert np.array_equal(held[:stop], audio[:stop])
                n_fade = min(round(min_release_s * self.sample_rate), n_samples - stop)
                weight = _fade_out(round(min_release_s * self.sample_rate))[:n_fade]
                span = slice(stop, stop + n_fade)
                audio[span] += weight * (held[span] - audio[span])
        n_end = min(round(END_FADE_SECONDS * self.sample_rate), n_samples)
        audio[n_samples - n_end:] *= _fade_out(n_end)
        return audio

    def _render_events(self, tracks: list[Track], n_samples: int,
                       note_offs: bool) -> np.ndarray:
        """TinySoundFont's raw ``[n_samples]`` render; ``note_offs=False`` holds every note."""
        font = self._font
        font.reset()
        # reset() ends the previous clip's voices with a quick fade that still sounds for
        # ~256 samples; render it away so every clip starts from the same silent state.
        font.render(memoryview(self._flush).cast("B"), False)
        events = []  # (sample, order, channel, pitch, velocity): order 0 = off, 1 = on
        melodic = iter(_MELODIC_CHANNELS)
        for track in tracks:
            channel = DRUM_CHANNEL if track.is_drum else next(melodic)
            font.channel_set_preset_number(channel, 0 if track.is_drum else int(track.program),
                                           bool(track.is_drum))
            for onset_s, offset_s, pitch, velocity in np.asarray(track.notes, dtype=np.float64):
                start = round(onset_s * self.sample_rate)
                stop = round(offset_s * self.sample_rate)
                if start >= n_samples or stop <= start:
                    continue
                events.append((start, 1, channel, int(pitch), float(velocity) / 127.0))
                if stop < n_samples and note_offs:
                    events.append((stop, 0, channel, int(pitch), 0.0))
        events.sort()
        audio = np.zeros(n_samples, dtype=np.float32)
        view = memoryview(audio).cast("B")  # TinySoundFont writes float32 bytes in place
        position = 0
        for sample, order, channel, pitch, velocity in events:
            if sample > position:
                font.render(view[4 * position:4 * sample], False)
                position = sample
            if order:
                font.channel_note_on(channel, pitch, velocity)
            else:
                font.channel_note_off(channel, pitch)
        if position < n_samples:
            font.render(view[4 * position:], False)
        return audio


def _fade_out(n_samples: int) -> np.ndarray:
    """Raised-cosine gain ``[n_samples]`` from 1 down to 0 (0 at the last sample), float32."""
    steps = np.arange(1, n_samples + 1) / max(n_samples, 1)
    return (0.5 * (1.0 + np.cos(np.pi * steps))).astype(np.float32)


def rms_dbfs(audio: np.ndarray) -> float:
    """RMS level of ``audio`` ``[L]`` in dB relative to full scale (-inf for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def normalise_peak(audio: np.ndarray, peak_dbfs: float = PEAK_DBFS) -> np.ndarray:
    """Scale ``audio`` ``[L]`` so its absolute peak is ``10 ** (peak_dbfs / 20)``.

    Raises
    ------
    ValueError
        If the audio is silent (peak below ``SILENCE_PEAK``): there is nothing to scale.
    """
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak < SILENCE_PEAK:
        raise ValueError(f"cannot normalise silent audio (peak {peak:.2e} < {SILENCE_PEAK})")
    return (audio * (10.0 ** (peak_dbfs / 20.0) / peak)).astype(np.float32)


def estimate_f0(audio: np.ndarray, sample_rate: int, start_s: float = 0.1, stop_s: float = 1.0,
                fmin_hz: float = 25.0, fmax_hz: float = 4500.0,
                threshold: float = 0.15) -> float:
    """YIN fundamental frequency of a single note, median over voiced frames (Hz; nan if none).

    Parameters
    ----------
    audio : np.ndarray
        ``[L]`` mono audio of one note starting at ``t = 0``.
    sample_rate : int
        Hz.
    start_s, stop_s : float
        Analysis span after the onset (skips the attack transient).
    fmin_hz, fmax_hz : float
        Search range; frames are ``2 * sample_rate / fmin_hz`` samples long.
    threshold : float
        YIN absolute threshold on the cumulative-mean-normalised difference ``d'``; a frame
        whose minimum ``d'`` exceeds it is unvoiced.
    """
    max_lag = int(np.ceil(sample_rate / fmin_hz))
    min_lag = max(2, int(np.floor(sample_rate / fmax_hz)))
    window = max_lag  # difference window W; frame = W + max_lag samples
    hop = max(1, sample_rate // 100)
    first, last = int(start_s * sample_rate), min(int(stop_s * sample_rate), len(audio))
    starts = np.arange(first, last - window - max_lag + 1, hop)
    if starts.size == 0:
        return float("nan")
    frames = np.stack([audio[s:s + window + max_lag] for s in starts]).astype(np.float64)
    n_fft = 1 << int(np.ceil(np.log2(2 * frames.shape[1])))
    spectrum = np.fft.rfft(frames, n_fft)
    head = np.fft.rfft(frames[:, :window], n_fft)
    cross = np.fft.irfft(spectrum * np.conj(head), n_fft)[:, :max_lag + 1]  # sum_j x_j x_{j+tau}
    energy = np.cumsum(np.square(frames), axis=1)
    energy = np.concatenate([np.zeros((len(frames), 1)), energy], axis=1)
    lags = np.arange(max_lag + 1)
    e_shift = energy[:, lags + window] - energy[:, lags]  # sum_{j<W} x_{j+tau}^2
    diff = np.maximum(energy[:, [window]] + e_shift - 2.0 * cross, 0.0)  # d(tau), [F, T+1]
    cum = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * lags[1:] / np.maximum(cum, 1e-12)
    estimates = []
    for row, raw in zip(cmnd, diff, strict=True):
        below = np.nonzero(row[min_lag:max_lag] < threshold)[0]
        if below.size == 0:
            continue
        tau = min_lag + below[0]
        while tau + 1 < max_lag and row[tau + 1] < row[tau]:  # walk down to the local minimum
            tau += 1
        a, b, c = raw[tau - 1], raw[tau], raw[tau + 1]  # interpolate d, as YIN's step 5 does
        denom = a - 2 * b + c
        shift = 0.5 * (a - c) / denom if denom > 0 else 0.0
        estimates.append(sample_rate / (tau + shift))
    return float(np.median(estimates)) if len(estimates) >= 3 else float("nan")


def check_audio(audio: np.ndarray, sample_rate: int, pitch: int | None = None) -> str | None:
    """Return why a normalised clip must be dropped, or None when it is fine.

    Parameters
    ----------
    audio : np.ndarray
        ``[L]`` peak-normalised audio.
    sample_rate : int
        Hz.
    pitch : int or None
        MIDI pitch of a single-note clip (checked with :func:`estimate_f0`); None for a
        mixture (checked for quiet 1-second windows instead).

    Returns
    -------
    str or None
        "quiet" (whole-clip RMS below ``MIN_RMS_DBFS``), "gap" (a 1 s window of a mixture
        below ``MIN_WINDOW_RMS_DBFS``), "unpitched" (no voiced YIN frames), "wrong_pitch"
        (more than 50 cents from the label), or None.
    """
    if rms_dbfs(audio) < MIN_RMS_DBFS:
        return "quiet"
    if pitch is None:
        n = sample_rate
        windows = [audio[s:s + n] for s in range(0, max(1, len(audio) - n + 1), n // 2)]
        return "gap" if min(rms_dbfs(w) for w in windows) < MIN_WINDOW_RMS_DBFS else None
    f0 = estimate_f0(audio, sample_rate)
    if not np.isfinite(f0):
        return "unpitched"
    cents = 1200.0 * np.log2(f0 / pretty_midi.note_number_to_hz(pitch))
    return "wrong_pitch" if abs(cents) > PITCH_TOLERANCE_CENTS else None
