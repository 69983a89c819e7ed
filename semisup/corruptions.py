"""Novel corruptions for the robustness study of Appendix 9.4 (Figure 6).

Seven effects the encoders never saw in training, applied at evaluation time: chorus,
distortion, reverb, compression and bitcrush (Spotify's pedalboard, as the authors did),
SpliceOut and time-stretch. Each has one dial, ``strength`` in [0, 1]: 0 returns the input
unchanged, 1 is the setting of the authors' robustness configs where they had one, and the
effect grows monotonically in between (the table below gives the exact mapping).

=============  ==================================================================
name           parameters at strength ``s``
=============  ==================================================================
chorus         ``pedalboard.Chorus(rate_hz=5, depth=s, centre_delay_ms=7,
               feedback=0, mix=s)`` (authors: mix 1, rate 5 Hz, depth 1)
distortion     ``(1 - s) x + s tanh(2.82 x)``: pedalboard ``Distortion(drive_db=9)``
               (authors' drive) mixed in parallel with the dry signal
reverb         ``pedalboard.Reverb(room_size=s, wet_level=s, dry_level=0.5 + 0.5 s,
               damping=0.5, width=1)`` (authors: room 1, wet 1, dry 1; pedalboard
               doubles the dry level, so 0.5 is unity gain)
compression    ``pedalboard.Compressor(threshold_db=-30 s, ratio=1 + 4 s,
               attack_ms=1, release_ms=100)`` (authors: -30 dB, 5:1), no make-up gain
bitcrush       ``pedalboard.Bitcrush(bit_depth=16 - 12 s)`` (authors: 4 bits)
splice_out     8 spans per example zeroed (2.5 ms raised-cosine fades), centres
               uniform over the crop, widths ``s * u * 100 ms`` with ``u ~ U(0, 1)``
               (authors: torch-audiomentations ``SpliceOut(max_width=100)``)
time_stretch   phase-vocoder stretch (torchaudio) by ``rate = (1 + 0.3 s) ** ±1``, the
               sign a fair coin per example (authors: rate ~ U(0.7, 1.3)); the first
               ``L`` samples are kept, a sped-up example is zero-padded at the end
=============  ==================================================================

Conventions
-----------
- Audio is ``[B, 1, L]`` float on any device; outputs keep shape, dtype and device. The
  pedalboard effects run on CPU (one example at a time) and come back to ``x.device``.
- Random choices (SpliceOut spans, stretch directions) come from ``generator``; with the
  same seed the output is the same, and for a fixed seed a larger strength only widens the
  same spans (so the effect grows with strength example by example).
- Effects with a decay (reverb, chorus) are cut at ``L`` samples: the crop keeps its length.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pedalboard
import torch
import torchaudio
from torch import Tensor

from semisup.checks import check_audio as _check_audio
from semisup.checks import check_sample_rate as _check_sample_rate

__all__ = ["CORRUPTIONS", "corrupt", "SPLICE_SPANS", "SPLICE_MAX_MS", "STRETCH_MAX"]

#: Number of zeroed spans per example (torch-audiomentations' ``num_time_intervals``).
SPLICE_SPANS = 8
#: Widest span at strength 1, in ms (the authors' ``max_width``).
SPLICE_MAX_MS = 100.0
#: Fade in/out of each zeroed span, in ms: a hard cut would add a click to every span.
SPLICE_FADE_MS = 2.5
#: Largest stretch factor minus 1 (the authors drew rates from 0.7 to 1.3).
STRETCH_MAX = 0.3
#: Drive of the distortion at strength 1, in dB (the authors' setting).
DISTORTION_DRIVE_DB = 9.0


def _per_example_pedalboard(x: Tensor, sample_rate: int, plugin) -> Tensor:
    """Run one pedalboard plugin on each example (on CPU), crop/pad to ``L``."""
    length = x.shape[-1]
    audio = x.detach().to("cpu", torch.float32).numpy()
    out = np.zeros_like(audio)
    for b in range(audio.shape[0]):
        y = plugin(audio[b], sample_rate)  # (1, L'), reset before each example
        out[b, :, :min(length, y.shape[-1])] = y[:, :length]
    return torch.from_numpy(out).to(x.device, x.dtype)


def _chorus(x: Tensor, sample_rate: int, strength: float, generator) -> Tensor:
    return _per_example_pedalboard(x, sample_rate, pedalboard.Chorus(
        rate_hz=5.0, depth=strength, centre_delay_ms=7.0, feedback=0.0, mix=strength))


def _distortion(x: Tensor, sample_rate: int, strength: float, generator) -> Tensor:
    wet = _per_example_pedalboard(x, sample_rate, pedalboard.Distortion(
        drive_db=DISTORTION_DRIVE_DB))
    return (1.0 - strength) * x + strength * wet


def _reverb(x: Tensor, sample_rate: int, strength: float, generator) -> Tensor:
    return _per_example_pedalboard(x, sample_rate, pedalboard.Reverb(
        room_size=strength, damping=0.5, wet_level=strength, dry_level=0.5 + 0.5 * strength,
        width=1.0))


def _compression(x: Tensor, sample_rate: int, strength: float, generator) -> Tensor:
    return _per_example_pedalboard(x, sample_rate, pedalboard.Compressor(
        threshold_db=-30.0 * strength, ratio=1.0 + 4.0 * strength, attack_ms=1.0,
        release_ms=100.0))


def _bitcrush(x: Tensor, sample_rate: int, strength: float, generator) -> Tensor:
    return _per_example_pedalboard(x, sample_rate, pedalboard.Bitcrush(
        bit_depth=16.0 - 12.0 * strength))


def _splice_out(x: Tensor, sample_rate: int, strength: float, generator) -> Tensor:
    batch, _, length = x.shape
    device = generator.device if generator is not None else torch.device("cpu")
    centres = torch.rand(batch, SPLICE_SPANS, 1, generator=generator, device=device) * length
    widths = strength * SPLICE_MAX_MS / 1000 * sample_rate * torch.rand(
        batch, SPLICE_SPANS, 1, generator=generator, device=device)
    time = torch.arange(length, device=device, dtype=torch.float32)
    # Gain of each span at each sample: 0 inside, a raised-cosine ramp over the fade, 1
    # outside; the example keeps the smallest gain over its spans.
    fade = max(1.0, SPLICE_FADE_MS / 1000 * sample_rate)
    distance = (time - centres).abs() - widths / 2  # <= 0 inside the span
    ramp = (distance / fade).clamp(0.0, 1.0)
    gain = (0.5 - 0.5 * torch.cos(math.pi * ramp)).amin(dim=1, keepdim=True)  # (B, 1, L)
    return x * gain.to(x.device, x.dtype)


def _time_stretch(x: Tensor, sample_rate: int, strength: float, generator) -> Tensor:
    batch, _, length = x.shape
    device = generator.device if generator is not None else torch.device("cpu")
    faster = torch.rand(batch, generator=generator, device=device) < 0.5
    n_fft = 1024
    hop = n_fft // 4
    window = torch.hann_window(n_fft, dtype=torch.float64).to(x.device, torch.float32)
    phase_advance = torch.linspace(0, math.pi * hop, n_fft // 2 + 1, device=x.device)[:, None]
    out = torch.zeros_like(x)
    for speed_up in (False, True):
        rows = (faster == speed_up).nonzero().flatten().to(x.device)
        if rows.numel() == 0:
            continue
        rate = (1.0 + STRETCH_MAX * strength) ** (1 if speed_up else -1)
        pad_mode = "reflect" if length > n_fft // 2 else "constant"  # reflect needs L > pad
        spec = torch.stft(x[rows, 0].float(), n_fft, hop, window=window, pad_mode=pad_mode,
                          return_complex=True)
        stretched = torchaudio.functional.phase_vocoder(spec, rate, phase_advance)
        y = torch.istft(stretched, n_fft, hop, window=window,
                        length=round(length / rate))[:, :length]
        out[rows, 0, :y.shape[-1]] = y.to(x.dtype)
    return out


#: name -> corruption ``fn(x, sample_rate, strength, generator)`` (see the module table).
CORRUPTIONS: dict[str, Callable[[Tensor, int, float, torch.Generator | None], Tensor]] = {
    "chorus": _chorus,
    "distortion": _distortion,
    "reverb": _reverb,
    "compression": _compression,
    "bitcrush": _bitcrush,
    "splice_out": _splice_out,
    "time_stretch": _time_stretch,
}


def corrupt(x: Tensor, sample_rate: int, name: str, strength: float,
            generator: torch.Generator | None = None) -> Tensor:
    """Apply one novel corruption of Appendix 9.4 at a strength in [0, 1].

    Parameters
    ----------
    x : Tensor
        ``[B, 1, L]`` float audio, any device.
    sample_rate : int
        Sample rate in Hz.
    name : str
        A key of :data:`CORRUPTIONS`.
    strength : float
        0 (identity) to 1 (the authors' setting); the mapping per effect is in the module
        docstring.
    generator : torch.Generator, optional
        Source of the random choices of ``splice_out`` and ``time_stretch``.

    Returns
    -------
    Tensor
        ``[B, 1, L]``, same dtype and device; a copy of ``x`` at strength 0.

    Raises
    ------
    ValueError
        For an unknown name, a strength outside [0, 1], or bad audio / sample rate.
    """
    _check_audio(x)
    _check_sample_rate(sample_rate)
    if name not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {name!r}; choose one of {sorted(CORRUPTIONS)}")
    if (isinstance(strength, bool) or not isinstance(strength, (int, float))
            or not 0.0 <= strength <= 1.0):
        raise ValueError(f"strength must be a number in [0, 1] (0 = identity), got {strength!r}")
    if strength == 0 or x.numel() == 0:
        return x.clone()
    return CORRUPTIONS[name](x, sample_rate, float(strength), generator)
