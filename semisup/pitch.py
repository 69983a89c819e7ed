"""Batched phase-vocoder pitch shift: one STFT for the whole batch, a shift per example.

The pitch shift of Table 1 (±4 semitones, Sec. 4.2) dominates the cost of the augmentation
chain when done with torch-audiomentations (~95 % of its time, see ``REFERENCE.md``). Here
every example of a batch goes through **one** STFT and one set of phase-vocoder tensor ops,
whatever its shift; only the inverse FFT of each frame is done per example.

How the shift is made (Laroche & Dolson's phase vocoder, resampling done frame by frame):
a pitch shift by the ratio ``r = 2 ** (semitones / 12)`` is a time stretch by ``r`` followed
by resampling by ``1 / r``. Instead of resampling the stretched signal, each synthesis frame
is resampled: the ``n_fft``-point spectrum of an analysis frame is inverted with an
``n_s``-point inverse FFT, ``n_s = round(n_fft / r)``, which compresses the windowed frame
by ``r`` in time (band-limited interpolation, and an exact anti-aliasing low-pass when
``r > 1``). Frames are overlap-added at the analysis hop, so the duration is unchanged.
The phase of each bin advances by ``r`` times its instantaneous frequency per hop, so the
frames join coherently at the new pitch.

Conventions
-----------
- Audio is ``[B, 1, L]`` float (``B`` crops, mono, ``L`` samples); the output has the same
  shape, dtype and device, and exactly ``L`` samples.
- ``semitones`` is a length-``B`` tensor (or one number for all examples); positive = up.
- The realised ratio is ``n_fft / n_s`` with an integer ``n_s``: shifts are quantised to
  that grid. Within :data:`SIZE_TOLERANCE_CENTS` (5 cents) of the request, the ``n_s``
  whose FFT is fastest is used (FFT sizes with a large prime factor are 3-5x slower; this
  makes the pitch shift ~20 % faster); :func:`realised_semitones` gives the shift applied.
  A request that rounds to ``n_s = n_fft`` returns the input
  unchanged (bit for bit).
- STFT: periodic Hann window, ``n_fft ≈ 46 ms`` (1024 samples at 22.05 kHz), hop
  ``n_fft // 3`` (:data:`OVERLAP`); the input is padded by point reflection so that every
  output sample is covered by the same number of frames (no edge gain error) and the slope
  stays continuous at the crop edges (no click).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from semisup.checks import check_audio, check_sample_rate

__all__ = ["pitch_shift", "realised_semitones", "default_n_fft", "MAX_SEMITONES"]

#: Frames per window length: hop = n_fft // OVERLAP (341 samples at 22.05 kHz). With
#: identity phase locking, 3 gives the same round-trip log-spectral distance as the usual 4
#: (within 0.1 dB on synthetic music, ±1 to ±4 semitones) in about half the time; only a
#: strong vibrato (±100 cents) comes out with more amplitude ripple (18 % against 13 %).
OVERLAP = 3
#: Largest error of the realised shift, in cents, accepted to get a fast inverse-FFT size
#: (5 cents is about the smallest pitch difference listeners notice).
SIZE_TOLERANCE_CENTS = 5.0
#: Largest shift accepted, in semitones (one octave each way): beyond it the frames get too
#: short (up) or the reflect padding too long (down) for the default STFT.
MAX_SEMITONES = 12.0


def default_n_fft(sample_rate: int) -> int:
    """Return the analysis FFT size: the power of two closest to 46 ms of audio.

    46 ms (1024 samples at 22.05 kHz, 2048 at 44.1 kHz) resolves the partials of bass notes
    while keeping transients acceptable, the usual phase-vocoder compromise for music.
    """
    return 2 ** max(6, round(math.log2(0.0464 * sample_rate)))


@lru_cache(maxsize=None)
def _largest_prime_factor(n: int) -> int:
    """Return the largest prime factor of ``n >= 1`` (1 for 1)."""
    largest, factor = 1, 2
    while factor * factor <= n:
        while n % factor == 0:
            largest, n = factor, n // factor
        factor += 1
    return max(largest, n)


def _synthesis_sizes(semitones: Tensor, n_fft: int) -> Tensor:
    """Return per-example inverse-FFT sizes ``n_s ≈ n_fft * 2**(-semitones/12)``.

    Among the sizes within :data:`SIZE_TOLERANCE_CENTS` of the exact ratio, the one with
    the smallest largest prime factor is taken (then the closest): FFTs of sizes with a
    large prime factor cost 3-5x more, and the synthesis does one per example.
    """
    sizes = []
    for ideal in (n_fft * torch.pow(2.0, -semitones.double().cpu() / 12.0)).tolist():
        slack = ideal * (2.0 ** (SIZE_TOLERANCE_CENTS / 1200) - 1.0)
        candidates = range(math.ceil(ideal - slack), math.floor(ideal + slack) + 1)
        sizes.append(min(candidates or [round(ideal)],
                         key=lambda n: (_largest_prime_factor(n), abs(n - ideal))))
    return torch.tensor(sizes, dtype=torch.long)


def realised_semitones(semitones: Tensor | float, sample_rate: int,
                       n_fft: int | None = None) -> Tensor:
    """Return the shifts :func:`pitch_shift` actually applies (the grid ``n_fft / n_s``).

    Parameters
    ----------
    semitones : Tensor or float
        Requested shifts ``[B]`` (or one number).
    sample_rate : int
        Sample rate in Hz (sets the default ``n_fft``).
    n_fft : int, optional
        Analysis FFT size; default :func:`default_n_fft`.

    Returns
    -------
    Tensor
        ``[B]`` float64 realised shifts in semitones, ``12 * log2(n_fft / n_s)``.
    """
    n_fft = n_fft or default_n_fft(sample_rate)
    semitones = torch.as_tensor(semitones, dtype=torch.float64).reshape(-1)
    return 12.0 * torch.log2(n_fft / _synthesis_sizes(semitones, n_fft).double())


def _check(x: Tensor, sample_rate: int, semitones, n_fft: int | None) -> tuple[Tensor, int]:
    """Validate the arguments of :func:`pitch_shift`; return ``semitones`` as ``[B]``."""
    check_audio(x)
    check_sample_rate(sample_rate)
    semitones = torch.as_tensor(semitones, dtype=torch.float64).reshape(-1)
    if semitones.numel() == 1:
        semitones = semitones.expand(x.shape[0])
    if semitones.numel() != x.shape[0]:
        raise ValueError(
            f"semitones must hold one value or one per example (B = {x.shape[0]}), got "
            f"{semitones.numel()} values"
        )
    if not torch.isfinite(semitones).all() or semitones.abs().max() > MAX_SEMITONES:
        raise ValueError(
            f"semitones must be finite and within ±{MAX_SEMITONES:g}, got "
            f"{semitones.tolist()}"
        )
    n_fft = n_fft or default_n_fft(sample_rate)
    if n_fft < 16:
        raise ValueError(f"n_fft must be >= 16, got {n_fft}")
    return semitones, n_fft


def pitch_shift(x: Tensor, sample_rate: int, semitones: Tensor | float,
                n_fft: int | None = None) -> Tensor:
    """Shift the pitch of each example by its own number of semitones, keeping its length.

    Table 1's "Pitch shifting" (Sec. 4.2), batched: one STFT and one phase-vocoder pass for
    all examples, then one small inverse FFT per example (see the module docstring).

    Parameters
    ----------
    x : Tensor
        ``[B, 1, L]`` float audio, CPU or GPU.
    sample_rate : int
        Sample rate in Hz.
    semitones : Tensor or float
        ``[B]`` shifts in semitones (positive = up), or one number for all; within ±12.
        Realised within 5 cents (see :func:`realised_semitones`).
    n_fft : int, optional
        Analysis FFT size (hop = ``n_fft // OVERLAP``); default :func:`default_n_fft`.

    Returns
    -------
    Tensor
        ``[B, 1, L]``, same dtype and device as ``x``. Examples whose shift rounds to 0 are
        returned unchanged.

    Raises
    ------
    ValueError
        For a wrong rank, a non-float dtype, ``sample_rate <= 0``, a wrong number of shifts
        or shifts beyond ±12 semitones.
    """
    semitones, n_fft = _check(x, sample_rate, semitones, n_fft)
    n_s_all = _synthesis_sizes(semitones, n_fft)
    moved = (n_s_all != n_fft).nonzero().flatten()
    out = x.clone()
    if moved.numel() == 0 or x.shape[-1] == 0:
        return out
    index = moved.to(x.device)
    work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    out[index] = _shift_rows(x[index, 0].to(work), n_s_all[moved].tolist(), n_fft).to(
        x.dtype).unsqueeze(1)
    return out


def _shift_rows(x: Tensor, n_s: list[int], n_fft: int) -> Tensor:
    """Pitch-shift rows ``[B', L]`` (float32 or float64) with per-row synthesis sizes ``n_s``."""
    rows, length = x.shape
    hop = n_fft // OVERLAP
    # Frames needed beyond each end so that every output sample sees all its frames: the
    # longest synthesis frame reaches max(n_s)/2 samples away from its centre.
    margin = math.ceil(max(n_s) / 2 / hop)
    left = margin * hop + n_fft // 2
    n_frames = math.ceil(length / hop) + 2 * margin + 1
    right = (n_frames - 1) * hop + n_fft - left - length
    padded = _odd_reflect(x, left, right)
    window = _hann(n_fft).to(x.device, x.dtype)
    spec = torch.stft(padded, n_fft, hop, window=window, center=False,
                      return_complex=True).transpose(1, 2)  # (B', T, F): frame m centred at (m - margin) * hop
    ratio = torch.tensor([n_fft / s for s in n_s], device=x.device, dtype=x.dtype).view(rows, 1, 1)
    bins = spec.shape[-1]
    # Expected phase advance of bin k over one hop; the measured advance minus it, wrapped
    # to [-pi, pi), plus it again is the bin's instantaneous frequency times the hop. The
    # wrap is unambiguous within n_fft / (2 hop) = 1.5 bins of the bin's centre: always
    # true at the spectral peaks, whose turn every bin takes below.
    expected = (2 * math.pi * hop / n_fft) * torch.arange(bins, device=x.device, dtype=x.dtype)
    phase = torch.angle(spec)
    turn = torch.diff(phase, dim=1, prepend=phase[:, :1])  # (B', T, F), frame 0: 0
    turn.sub_(expected).add_(math.pi).remainder_(2 * math.pi).sub_(math.pi).add_(expected)
    turn[:, 0] = 0.0
    # Output phase = input phase + turn, turn = (r - 1) * accumulated true advance (frame 0
    # keeps its phase). Identity phase locking (Laroche & Dolson, 1999): every bin takes the
    # turn of the spectral peak nearest to it, so each partial's lobe keeps the relative
    # phases of the analysis frame and phase errors cannot pile up inside a lobe.
    turn = torch.cumsum(turn.mul_(ratio - 1), dim=1)
    turn = torch.gather(turn, 2, _nearest_peak(spec.abs().float()))
    shifted = spec * torch.complex(torch.cos(turn), torch.sin(turn))
    # Per-row synthesis: an n_s-point inverse FFT compresses each frame by r; frames are
    # laid out centred in a common width so that one overlap-add serves the whole batch.
    width = math.ceil(max(n_s) / hop) * hop
    frames = x.new_zeros(rows, n_frames, width)  # (B', T, W): frame centred at W // 2
    windows = np.zeros((rows, 1, width))
    for b, size in enumerate(n_s):
        start = width // 2 - size // 2
        frames[b, :, start:start + size] = torch.fft.irfft(shifted[b], n=size)
        windows[b, 0, start:start + size] = _hann(size).numpy() * (size / n_fft)  # 1/r: irfft scale
    frames *= torch.from_numpy(windows).to(x.device, x.dtype)
    chunks = width // hop
    ola = x.new_zeros(rows, n_frames + chunks - 1, hop)  # (B', T + C - 1, hop)
    frames = frames.view(rows, n_frames, chunks, hop)  # (B', T, C, hop): C hop-long chunks
    for c in range(chunks):
        ola[:, c:c + n_frames] += frames[:, :, c]
    begin = margin * hop + width // 2
    signal = ola.reshape(rows, -1)[:, begin:begin + length]  # (B', L)
    return signal / _envelope(n_s, hop, length, x.device, x.dtype)


def _nearest_peak(magnitude: Tensor) -> Tensor:
    """Return, for each bin of ``magnitude`` ``(B', T, F)``, the loudest bin within ±2 bins.

    ±2 bins is the half-width of a Hann window's main lobe, so the bins of one partial's
    lobe follow its peak. An arg-max pool is slow on CPU, so the bin index (mod 8) rides in
    the 3 lowest mantissa bits of the magnitude: non-negative floats order like their bit
    patterns, a plain max-pool keeps the bits of the winner, and its offset is read back.
    """
    rows, frames, bins = magnitude.shape
    index = torch.arange(bins, device=magnitude.device)
    bits = magnitude.view(torch.int32).bitwise_and(~7).bitwise_or_(index % 8)
    pooled = F.max_pool1d(bits.view(torch.float32).view(rows * frames, 1, bins),
                          kernel_size=5, stride=1, padding=2)
    winner = pooled.view(rows, frames, bins).view(torch.int32).bitwise_and(7)
    return index + winner.sub_(index % 8 - 4).bitwise_and_(7).sub_(4)  # int64 (B', T, F)


def _odd_reflect(x: Tensor, left: int, right: int) -> Tensor:
    """Pad rows ``[B', L]`` by point reflection about the end samples: ``2 x[0] - x[k]``.

    Unlike a mirror (``x[k]``), the point reflection keeps the slope continuous at the crop
    edges, so the shifted signal gets no kink there: with a mirror, a steady tone came out
    with up to +9 dB of extra high-frequency energy in its first and last 10 ms.
    """
    length = x.shape[-1]
    if max(left, right) < length:
        mirrored = F.pad(x.unsqueeze(1), (left, right), mode="reflect")[:, 0]
    else:  # pads longer than the clip: reflect repeatedly
        mirrored = x.index_select(1, _reflect_index(length, left, right, x.device))
    mirrored[:, :left] = 2 * x[:, :1] - mirrored[:, :left]
    mirrored[:, left + length:] = 2 * x[:, -1:] - mirrored[:, left + length:]
    return mirrored


def _reflect_index(length: int, left: int, right: int, device: torch.device) -> Tensor:
    """Return indices that reflect-pad a length-``length`` signal (pads may exceed it)."""
    position = torch.arange(-left, length + right, device=device)
    if length == 1:
        return torch.zeros_like(position)
    period = 2 * length - 2
    position = position.remainder(period)
    return torch.where(position >= length, period - position, position)


@lru_cache(maxsize=4096)
def _hann(size: int) -> Tensor:
    """Return a periodic Hann window ``[size]`` (float64, CPU, cached).

    Built with numpy: ``torch.hann_window`` in float32 takes milliseconds per call on a
    busy 2-thread CPU, and the synthesis needs one window per example.
    """
    return torch.from_numpy(0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(size) / size))


@lru_cache(maxsize=4096)
def _envelope_pattern(size: int, hop: int) -> Tensor:
    """Return ``sum_m hann(size)**2`` at hop ``hop`` over one period ``[hop]`` (float64)."""
    pattern = np.zeros(hop)
    np.add.at(pattern, (np.arange(size) - size // 2) % hop, _hann(size).numpy() ** 2)
    return torch.from_numpy(pattern)


def _envelope(n_s: list[int], hop: int, length: int, device: torch.device,
              dtype: torch.dtype) -> Tensor:
    """Return the overlap-add normaliser ``sum_m w_a(t - m hop) w_s(t - m hop)`` ``[B', L]``.

    The compressed analysis window and the synthesis window are both ``hann(n_s)``; every
    output sample is covered by all its frames (see the margin in :func:`_shift_rows`), so
    the sum is periodic with period ``hop``: one ``hop``-long pattern per row, tiled.
    """
    patterns = torch.stack([_envelope_pattern(size, hop) for size in n_s]).to(device, dtype)
    return patterns.repeat(1, math.ceil(length / hop))[:, :length]  # (B', L)
