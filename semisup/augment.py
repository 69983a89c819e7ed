"""The augmentation chain of Table 1 (Sec. 4.2), batched, with the severity of Sec. 5.3.

Order as applied: gain → polarity inversion → coloured noise → one of {low-pass,
high-pass, band-pass, band-stop} → pitch shift → delay. Each transform is a plain function
on a batch with per-example parameters; :class:`AugmentationChain` draws the parameters
(:meth:`AugmentationChain.sample_parameters`) and applies them
(:meth:`AugmentationChain.apply`) through those same functions.

Why not torch-audiomentations: its chain runs ~40 clips/s on 2 CPU threads, ~95 % of it
in ``PitchShift`` (one example at a time); ours is one batched pass per stage (see
``benchmarks/bench_augment.py``): a phase-vocoder pitch shift for the whole batch
(:mod:`semisup.pitch`), noise and filter as one rFFT-domain product, the delay as a few
shifted adds.

Conventions
-----------
- Audio is ``[B, 1, L]`` float (``B`` crops, mono, ``L`` samples), on CPU or GPU. Outputs
  keep the shape, dtype and device. Views ``[B, V, L]`` go in as
  ``x.reshape(B * V, 1, L)``, so each view gets its own draw.
- Per-example parameters are tensors of length ``B`` (a plain number means "the same for
  every example"). Units are in the names: ``gain_db``, ``snr_db``, ``cutoff_hz``,
  ``delay_ms``, ``semitones``.
- Randomness comes only from the ``torch.Generator`` passed in (the global generator if
  ``None``): the same seed gives the same parameters and the same output on CPU.
- The whole chain is applied to an example with probability ``p_chain = 0.8`` (the
  authors' ``Compose(p=0.8)``, not stated in the paper); each stage then has Table 1's own
  probability, so e.g. a gain change happens to 0.8 × 0.4 = 32 % of the examples.
- Severity ``s`` (Sec. 5.3) scales every probability by ``s / 2`` (capped at 1) and moves
  the bounds marked † / ‡ in Table 1 (see :func:`severity_ranges`); ``s = 2`` is the
  training chain, ``s = 0`` returns the input unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import scipy.fft
import torch
from torch import Tensor, nn
from torch_audiomentations.utils.mel_scale import (
    convert_frequencies_to_mels,
    convert_mels_to_frequencies,
)

from semisup.checks import check_audio as _check_audio
from semisup.checks import check_sample_rate as _check_sample_rate
from semisup.pitch import pitch_shift

__all__ = [
    "gain",
    "polarity_inversion",
    "coloured_noise",
    "filter_response",
    "low_pass",
    "high_pass",
    "band_pass",
    "band_stop",
    "pitch_shift",
    "delay",
    "FILTER_KINDS",
    "STAGES",
    "TABLE1",
    "ChainRanges",
    "severity_ranges",
    "ChainParameters",
    "AugmentationChain",
]

#: The stages of the chain, in the order applied (names of ``ChainParameters`` masks).
STAGES = ("gain", "polarity", "noise", "filter", "pitch", "delay")
#: The four filters of Table 1, in the order of ``ChainParameters.filter_kind``.
FILTER_KINDS = ("low_pass", "high_pass", "band_pass", "band_stop")
#: Order of the Butterworth magnitude responses: 24 dB/octave skirts.
FILTER_ORDER = 4
#: Highest cutoff or centre frequency the chain draws, as a fraction of the sample rate
#: (0.45 = 90 % of Nyquist): severity 1 would otherwise ask for a 14 kHz low-pass.
MAX_FREQUENCY_FRACTION = 0.45
#: Reflect padding on each side of the filter's FFT, in seconds: longer than the impulse
#: response of the lowest cutoff drawn (75 Hz at severity 4), so the FFT's circular
#: convolution does not wrap one end of the crop onto the other.
FILTER_PAD_SECONDS = 0.05


# --------------------------------------------------------------------------- validation


def _per_example(value, x: Tensor, name: str, dtype: torch.dtype | None = None) -> Tensor:
    """Return ``value`` as a finite ``[B]`` tensor on ``x.device`` (a number is broadcast)."""
    batch = x.shape[0]
    tensor = torch.as_tensor(value, device=x.device)
    tensor = tensor.to(dtype or (x.dtype if tensor.is_floating_point() else tensor.dtype))
    if tensor.dim() == 0:
        tensor = tensor.expand(batch)
    if tensor.dim() != 1 or tensor.shape[0] != batch:
        raise ValueError(
            f"{name} must be one number or a length-B tensor (B = {batch}), got shape "
            f"{tuple(tensor.shape)}"
        )
    if tensor.is_floating_point() and not torch.isfinite(tensor).all():
        raise ValueError(f"{name} must be finite, got {tensor.tolist()}")
    return tensor


# --------------------------------------------------------------------------- transforms


def gain(x: Tensor, gain_db) -> Tensor:
    """Scale each example by its gain (Table 1, "Gain").

    Parameters
    ----------
    x : Tensor
        ``[B, 1, L]`` float audio.
    gain_db : Tensor or float
        ``[B]`` gains in dB (amplitude: ``10 ** (gain_db / 20)``).

    Returns
    -------
    Tensor
        ``[B, 1, L]``.
    """
    _check_audio(x)
    return x * torch.pow(10.0, _per_example(gain_db, x, "gain_db") / 20.0).view(-1, 1, 1)


def polarity_inversion(x: Tensor, mask) -> Tensor:
    """Negate the examples where ``mask`` is true (Table 1, "Polarity inv.").

    Parameters
    ----------
    x : Tensor
        ``[B, 1, L]`` float audio.
    mask : Tensor or bool
        ``[B]`` bool, true = invert.

    Returns
    -------
    Tensor
        ``[B, 1, L]``.
    """
    _check_audio(x)
    mask = _per_example(mask, x, "mask", dtype=torch.bool)
    return torch.where(mask.view(-1, 1, 1), -x, x)


def _noise_spectra(seeds: list[int], n_samples: int, sample_rate: int,
                   decay_db_per_octave: Tensor, rms: Tensor, device: torch.device) -> Tensor:
    """Return rFFT spectra ``[R, n_samples // 2 + 1]`` of coloured Gaussian noise.

    Each row is drawn from its own generator seeded with ``seeds[r]`` (so the noise is a
    function of the drawn parameters), shaped so that its power falls by
    ``decay_db_per_octave[r]`` dB per octave (0 = white, 3.01 = pink, 6.02 = brown,
    negative = blue/violet), without DC, and scaled to an RMS of exactly ``rms[r]`` over
    ``n_samples``.
    """
    bins = n_samples // 2 + 1
    draws = torch.empty(len(seeds), bins, 2, device=device)
    for row, seed in enumerate(seeds):
        generator = torch.Generator(device=device).manual_seed(seed)
        torch.randn(bins, 2, generator=generator, device=device, out=draws[row])
    freqs_hz = torch.fft.rfftfreq(n_samples, 1.0 / sample_rate, device=device)
    # Amplitude ~ f ** (-decay / 20 log10(2)): power drops decay dB per doubling of f.
    exponent = -decay_db_per_octave.float().view(-1, 1) / (20.0 * math.log10(2.0))
    log_f = torch.log(freqs_hz.clamp_min(freqs_hz[1] if bins > 1 else 1.0) / 1000.0)
    shape = torch.exp(exponent * log_f)  # (R, F)
    shape[:, 0] = 0.0
    # Parseval: mean square over n samples = sum_k w_k |X_k|^2 / n^2, w = 2 except DC and
    # (even n) Nyquist, which appear once.
    weight = torch.full((bins,), 2.0, device=device)
    weight[0] = 1.0
    if n_samples % 2 == 0:
        weight[-1] = 1.0
    power = torch.einsum("rf,rf->r", draws.square().sum(-1), shape.square() * weight)
    scale = rms.float() * n_samples / power.sqrt().clamp_min(1e-30)
    return torch.view_as_complex(draws) * (shape * scale.view(-1, 1))  # (R, F)


def filter_response(freqs_hz: Tensor, low_hz: Tensor, high_hz: Tensor, stop: Tensor) -> Tensor:
    """Return zero-phase magnitude responses ``[B, F]`` for the filters of Table 1.

    Every filter is a band ``[low_hz, high_hz]`` of Butterworth magnitude responses of order
    :data:`FILTER_ORDER` (−3 dB at each edge): a low-pass has ``low_hz = 0``, a high-pass
    ``high_hz = inf``, a band-pass both edges, and a band-stop is ``1 -`` the band-pass.

    Parameters
    ----------
    freqs_hz : Tensor
        ``[F]`` frequencies in Hz.
    low_hz, high_hz : Tensor
        ``[B]`` band edges in Hz (0 and ``inf`` switch an edge off).
    stop : Tensor
        ``[B]`` bool, true for a band-stop.

    Returns
    -------
    Tensor
        ``[B, F]`` real gains in [0, 1].
    """
    freqs_hz = freqs_hz.view(1, -1).clamp_min(1e-3)  # DC: the high-pass' ratio is huge, not 0/0
    order = 2 * FILTER_ORDER
    above_low = torch.rsqrt(1.0 + (low_hz.view(-1, 1) / freqs_hz) ** order)
    below_high = torch.rsqrt(1.0 + (freqs_hz / high_hz.view(-1, 1)) ** order)
    band = above_low * below_high
    return torch.where(stop.view(-1, 1), 1.0 - band, band)


def _band_edges(kind: Tensor, lowpass_hz: Tensor, highpass_hz: Tensor, centre_hz: Tensor,
                fraction: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Map per-example filter kinds (indices into FILTER_KINDS) to band edges and a stop flag.

    Band filters span ``centre * (1 ± fraction / 2)`` (torch-audiomentations' definition).
    """
    zero = torch.zeros_like(centre_hz)
    inf = torch.full_like(centre_hz, math.inf)
    band_low = centre_hz * (1.0 - fraction / 2.0)
    band_high = centre_hz * (1.0 + fraction / 2.0)
    low = torch.where(kind == 0, zero, torch.where(kind == 1, highpass_hz, band_low))
    high = torch.where(kind == 0, lowpass_hz, torch.where(kind == 1, inf, band_high))
    return low, high, kind == 3


def _noise_and_filter(x: Tensor, sample_rate: int, noise_rms: Tensor | None = None,
                      decay_db_per_octave: Tensor | None = None, seeds: list[int] | None = None,
                      band: tuple[Tensor, Tensor, Tensor] | None = None) -> Tensor:
    """Add coloured noise and/or filter, as one rFFT-domain pass: ``(X + a N) H``.

    Noise alone needs no FFT of the signal: the noise is made in the frequency domain (at a
    fast FFT length >= L, then cropped) and added in time. With a filter, the signal is
    reflect-padded by :data:`FILTER_PAD_SECONDS` and transformed at a fast FFT length;
    noise (drawn at that length) is added to its spectrum, the product with the response is
    inverted and cropped. ``noise_rms`` is the noise RMS per example (0 = no noise).
    """
    rows, _, length = x.shape
    work = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    if band is None:  # noise made at a fast FFT length (59535 = 3^5 5 7^2 is 4x slower)
        n_noise = scipy.fft.next_fast_len(length, real=True)
        spectra = _noise_spectra(seeds, n_noise, sample_rate, decay_db_per_octave, noise_rms,
                                 x.device)
        noise = torch.fft.irfft(spectra, n=n_noise)[:, :length]
        return (work + noise.unsqueeze(1).to(work.dtype)).to(x.dtype)
    pad = min(length - 1, round(FILTER_PAD_SECONDS * sample_rate))
    n_fft = scipy.fft.next_fast_len(length + 2 * pad, real=True)
    left = pad
    right = n_fft - length - left
    if right >= length:  # very short clips: zero-pad what reflection cannot cover
        padded = torch.nn.functional.pad(work, (left, right))
    else:
        padded = torch.nn.functional.pad(work, (left, right), mode="reflect")
    spectrum = torch.fft.rfft(padded[:, 0], n=n_fft)  # (R, F)
    noisy = _rows(noise_rms > 0) if noise_rms is not None else []
    if len(noisy):  # noise only where asked (filter-only rows have noise_rms = 0)
        spectrum[noisy] += _noise_spectra([seeds[i] for i in noisy.tolist()], n_fft, sample_rate,
                                          decay_db_per_octave[noisy], noise_rms[noisy], x.device)
    freqs_hz = torch.fft.rfftfreq(n_fft, 1.0 / sample_rate, device=x.device)
    spectrum = spectrum * filter_response(freqs_hz, *band).to(spectrum.real.dtype)
    out = torch.fft.irfft(spectrum, n=n_fft)[:, left:left + length]
    return out.unsqueeze(1).to(x.dtype)


def coloured_noise(x: Tensor, sample_rate: int, snr_db, decay_db_per_octave,
                   generator: torch.Generator | None = None) -> Tensor:
    """Add Gaussian noise with a power-law spectrum at a given SNR (Table 1, "Colored Noise").

    Parameters
    ----------
    x : Tensor
        ``[B, 1, L]`` float audio.
    sample_rate : int
        Sample rate in Hz.
    snr_db : Tensor or float
        ``[B]`` signal-to-noise ratios in dB, relative to each example's RMS (a silent
        example gets no noise).
    decay_db_per_octave : Tensor or float
        ``[B]`` spectral slope of the noise power in dB/octave: 0 = white, 3.01 = pink,
        negative = rising with frequency.
    generator : torch.Generator, optional
        Source of the noise (one seed per example is drawn from it).

    Returns
    -------
    Tensor
        ``[B, 1, L]``. The noise RMS is exact over the generated length (a fast FFT size
        >= L); over the crop the SNR is within 0.01 dB for white noise and within ~0.15 dB
        for the steepest slopes of severity 4 (±4 dB/octave), whose low frequencies
        fluctuate more over 2.7 s.
    """
    _check_audio(x)
    _check_sample_rate(sample_rate)
    snr_db = _per_example(snr_db, x, "snr_db", torch.float32)
    decay = _per_example(decay_db_per_octave, x, "decay_db_per_octave", torch.float32)
    device = generator.device if generator is not None else torch.device("cpu")
    seeds = torch.randint(0, 2**62, (x.shape[0],), generator=generator, device=device).tolist()
    return _noise_and_filter(x, sample_rate, _noise_rms(x, snr_db), decay, seeds)


def _check_frequency(value: Tensor, sample_rate: int, name: str) -> Tensor:
    """Raise unless every frequency lies strictly between 0 and Nyquist."""
    if (value <= 0).any() or (value >= sample_rate / 2).any():
        raise ValueError(
            f"{name} must lie in (0, {sample_rate / 2:g}) Hz (Nyquist of sample_rate = "
            f"{sample_rate}), got {value.tolist()}"
        )
    return value


def _filter(x: Tensor, sample_rate: int, kind: int, first, second=None) -> Tensor:
    """Apply one of FILTER_KINDS with per-example cutoff (or centre and fraction)."""
    _check_audio(x)
    _check_sample_rate(sample_rate)
    name = "cutoff_hz" if kind < 2 else "centre_hz"
    first = _check_frequency(_per_example(first, x, name, torch.float32), sample_rate, name)
    fraction = torch.ones_like(first)
    if second is not None:
        fraction = _per_example(second, x, "bandwidth_fraction", torch.float32)
        if (fraction <= 0).any() or (fraction > 2).any():
            raise ValueError(
                f"bandwidth_fraction must lie in (0, 2] (the band spans centre * (1 ± "
                f"fraction / 2)), got {fraction.tolist()}"
            )
    kinds = torch.full_like(first, kind, dtype=torch.long)
    return _noise_and_filter(x, sample_rate, band=_band_edges(kinds, first, first, first,
                                                              fraction))


def low_pass(x: Tensor, sample_rate: int, cutoff_hz) -> Tensor:
    """Low-pass each example at its cutoff (Table 1; order-4 Butterworth magnitude, zero phase).

    Parameters
    ----------
    x : Tensor
        ``[B, 1, L]`` float audio.
    sample_rate : int
        Sample rate in Hz.
    cutoff_hz : Tensor or float
        ``[B]`` −3 dB frequencies in Hz, below Nyquist.

    Returns
    -------
    Tensor
        ``[B, 1, L]``.
    """
    return _filter(x, sample_rate, 0, cutoff_hz)


def high_pass(x: Tensor, sample_rate: int, cutoff_hz) -> Tensor:
    """High-pass each example at its cutoff (Table 1; see :func:`low_pass`).

    Parameters
    ----------
    x : Tensor
        ``[B, 1, L]`` float audio.
    sample_rate : int
        Sample rate in Hz.
    cutoff_hz : Tensor or float
        ``[B]`` −3 dB frequencies in Hz, below Nyquist.

    Returns
    -------
    Tensor
        ``[B, 1, L]``.
    """
    return _filter(x, sample_rate, 1, cutoff_hz)


def band_pass(x: Tensor, sample_rate: int, centre_hz, bandwidth_fraction) -> Tensor:
    """Keep the band ``centre_hz * (1 ± bandwidth_fraction / 2)`` (Table 1, "Band pass").

    Parameters
    ----------
    x : Tensor
        ``[B, 1, L]`` float audio.
    sample_rate : int
        Sample rate in Hz.
    centre_hz : Tensor or float
        ``[B]`` band centres in Hz, below Nyquist.
    bandwidth_fraction : Tensor or float
        ``[B]`` bandwidths as a fraction of the centre, in (0, 2].

    Returns
    -------
    Tensor
        ``[B, 1, L]``.
    """
    return _filter(x, sample_rate, 2, centre_hz, bandwidth_fraction)


def band_stop(x: Tensor, sample_rate: int, centre_hz, bandwidth_fraction) -> Tensor:
    """Remove the band ``centre_hz * (1 ± bandwidth_fraction / 2)`` (Table 1, "Band cut").

    Parameters
    ----------
    x : Tensor
        ``[B, 1, L]`` float audio.
    sample_rate : int
        Sample rate in Hz.
    centre_hz : Tensor or float
        ``[B]`` band centres in Hz, below Nyquist.
    bandwidth_fraction : Tensor or float
        ``[B]`` bandwidths as a fraction of the centre, in (0, 2].

    Returns
    -------
    Tensor
        ``[B, 1, L]``: the input minus its :func:`band_pass` (zero phase, so exactly
        complementary).
    """
    return _filter(x, sample_rate, 3, centre_hz, bandwidth_fraction)


def delay(x: Tensor, sample_rate: int, delay_ms, volume, repeats, attenuation) -> Tensor:
    """Add echoes, with the authors' definition of the delay (Table 1, "Delay").

    ``d = sum_{i < repeats} attenuation**i * shift(x, i * delay)`` (``i = 0`` is the dry
    signal; shifted copies are cropped to ``L``), and ``out = (x + volume * d) / 2``.

    Parameters
    ----------
    x : Tensor
        ``[B, 1, L]`` float audio.
    sample_rate : int
        Sample rate in Hz.
    delay_ms : Tensor or float
        ``[B]`` time between echoes in ms, >= 0 (rounded to whole samples).
    volume : Tensor or float
        ``[B]`` wet level, >= 0.
    repeats : Tensor or int
        ``[B]`` number of terms in ``d``, >= 1 (``repeats - 1`` echoes).
    attenuation : Tensor or float
        ``[B]`` amplitude factor per echo, >= 0 (e.g. ``10 ** (-6 / 20)`` for -6 dB).

    Returns
    -------
    Tensor
        ``[B, 1, L]``.
    """
    _check_audio(x)
    _check_sample_rate(sample_rate)
    delay_ms = _per_example(delay_ms, x, "delay_ms", torch.float64)
    volume = _per_example(volume, x, "volume", torch.float64)
    attenuation = _per_example(attenuation, x, "attenuation", torch.float64)
    repeats = _per_example(repeats, x, "repeats")
    if repeats.is_floating_point() and not torch.equal(repeats, repeats.round()):
        raise ValueError(f"repeats must be whole numbers, got {repeats.tolist()}")
    for name, value, low in [("delay_ms", delay_ms, 0), ("volume", volume, 0),
                             ("attenuation", attenuation, 0), ("repeats", repeats, 1)]:
        if (value < low).any():
            raise ValueError(f"{name} must be >= {low}, got {value.tolist()}")
    length = x.shape[-1]
    shifts = torch.round(delay_ms * sample_rate / 1000.0).long().tolist()
    wet = x.clone()
    for b, (shift, count, factor) in enumerate(
            zip(shifts, repeats.long().tolist(), attenuation.tolist(), strict=True)):
        for i in range(1, count):
            if i * shift >= length:
                break
            wet[b, :, i * shift:].add_(x[b, :, :length - i * shift], alpha=factor**i)
    return (x + volume.to(x.dtype).view(-1, 1, 1) * wet) / 2


# --------------------------------------------------------------------------- severity

#: Table 1 at severity 2: name -> (probability, {parameter: ((low, mark), (high, mark))}).
#: Marks: "+" = dagger (the bound increases with severity), "-" = double dagger (the bound
#: decreases), None = fixed. See :func:`severity_ranges` for how they move.
TABLE1 = {
    "gain": (0.4, {"gain_db": ((-15.0, "-"), (5.0, "+"))}),
    "polarity": (0.6, {}),
    "noise": (0.6, {"snr_db": ((3.0, "-"), (30.0, "-")),
                    "decay_db_per_octave": ((-2.0, "-"), (2.0, "+"))}),
    "filter": (0.3, {"lowpass_hz": ((150.0, "-"), (7000.0, "-")),
                     "highpass_hz": ((200.0, "+"), (2400.0, "+")),
                     "band_centre_hz": ((200.0, None), (4000.0, "+")),
                     "band_fraction": ((0.5, "+"), (2.0, None))}),
    "pitch": (0.6, {"semitones": ((-4.0, "-"), (4.0, "+"))}),
    "delay": (0.6, {"delay_ms": ((100.0, "-"), (500.0, None)),
                    "reflections": ((1, "+"), (3, "+")),
                    "attenuation_db": ((-6.0, "+"), (-3.0, "+")),
                    "volume": ((0.25, "+"), (1.0, None))}),
}


def _move(value: float, mark: str | None, factor: float) -> float:
    """Move one Table 1 bound: its magnitude is multiplied or divided by ``factor = s / 2``.

    A dagger bound increases: positive values are multiplied, negative ones divided (they
    move towards 0). A double-dagger bound decreases: positive values are divided, negative
    ones multiplied (they move away from 0). So every marked bound moves in its marked
    direction and, for ``s > 2``, towards a harsher augmentation.
    """
    if mark is None:
        return value
    grows = (mark == "+") == (value > 0)
    return value * factor if grows else value / factor


@dataclass(frozen=True)
class ChainRanges:
    """Probabilities and parameter ranges of the chain at one severity (Table 1, Sec. 5.3).

    ``p_*`` are per-stage probabilities (the chain's ``p_chain`` applies on top); every
    range is an inclusive ``(low, high)`` pair in the unit of its name.
    """

    severity: int
    p_chain: float
    p_gain: float
    p_polarity: float
    p_noise: float
    p_filter: float
    p_pitch: float
    p_delay: float
    gain_db: tuple[float, float]
    snr_db: tuple[float, float]
    decay_db_per_octave: tuple[float, float]
    lowpass_hz: tuple[float, float]
    highpass_hz: tuple[float, float]
    band_centre_hz: tuple[float, float]
    band_fraction: tuple[float, float]
    semitones: tuple[float, float]
    delay_ms: tuple[float, float]
    reflections: tuple[int, int]
    attenuation_db: tuple[float, float]
    volume: tuple[float, float]


def severity_ranges(severity: int, sample_rate: int, p_chain: float = 0.8) -> ChainRanges:
    """Return Table 1's probabilities and ranges at a severity (Sec. 5.3).

    With ``m = severity / 2``: every probability (``p_chain`` included) becomes
    ``min(1, p * m)``; every bound marked † or ‡ moves as in :func:`_move` (magnitude times
    or divided by ``m``); unmarked bounds stay. Then, so that each range stays valid:
    cutoffs and centres are capped at :data:`MAX_FREQUENCY_FRACTION` × ``sample_rate``, and
    the number of reflections is the whole numbers in the moved range, at least 1
    (``[ceil(low), floor(high)]``: {1} at s = 1, {1, 2, 3} at s = 2, {2, 3, 4} at s = 3,
    {2, ..., 6} at s = 4). At ``severity = 0`` every probability is 0 and the ranges are
    those of severity 2 (never used).

    Parameters
    ----------
    severity : int
        0 (identity) to 4; 2 is the training chain.
    sample_rate : int
        Sample rate in Hz.
    p_chain : float
        Probability of applying the chain at all at severity 2 (the authors' 0.8).

    Returns
    -------
    ChainRanges
    """
    if isinstance(severity, bool) or not isinstance(severity, int) or not 0 <= severity <= 4:
        raise ValueError(f"severity must be an int in 0..4 (Sec. 5.3), got {severity!r}")
    _check_sample_rate(sample_rate)
    if isinstance(p_chain, bool) or not isinstance(p_chain, (int, float)) or not 0 <= p_chain <= 1:
        raise ValueError(f"p_chain must be a probability in [0, 1], got {p_chain!r}")
    factor = severity / 2
    bound_factor = factor if severity else 1.0
    values = {"severity": severity, "p_chain": min(1.0, round(p_chain * factor, 12))}
    for stage, (probability, parameters) in TABLE1.items():
        values[f"p_{stage}"] = min(1.0, round(probability * factor, 12))
        for name, ((low, low_mark), (high, high_mark)) in parameters.items():
            values[name] = tuple(round(_move(value, mark, bound_factor), 9)
                                 for value, mark in ((low, low_mark), (high, high_mark)))
    cap = MAX_FREQUENCY_FRACTION * sample_rate
    for name in ("lowpass_hz", "highpass_hz", "band_centre_hz"):
        low, high = values[name]
        if low > cap:
            raise ValueError(
                f"sample_rate = {sample_rate} Hz is too low for Table 1's {name} range "
                f"({low:g}-{high:g} Hz): cutoffs must stay below {cap:g} Hz"
            )
        values[name] = (low, min(high, cap))
    low, high = values["reflections"]
    values["reflections"] = (max(1, math.ceil(low)), max(1, math.floor(high)))
    return ChainRanges(**values)


# --------------------------------------------------------------------------- the chain


@dataclass
class ChainParameters:
    """Per-example draws of the chain, all ``[B]`` tensors (see :class:`AugmentationChain`).

    Bool masks say which stages apply to which example; they already include the chain's
    own coin (``chain``). Values are drawn for every example, applied only where masked.
    ``filter_kind`` indexes :data:`FILTER_KINDS`; ``noise_seed`` seeds the noise draw;
    ``semitones`` is the requested shift (applied within 5 cents, see
    :func:`semisup.pitch.realised_semitones`); ``reflections`` counts echoes, so the
    :func:`delay` gets ``repeats = reflections + 1`` (its ``i = 0`` term is the dry signal).
    """

    chain: Tensor
    gain: Tensor
    gain_db: Tensor
    polarity: Tensor
    noise: Tensor
    snr_db: Tensor
    decay_db_per_octave: Tensor
    noise_seed: Tensor
    filter: Tensor
    filter_kind: Tensor
    lowpass_hz: Tensor
    highpass_hz: Tensor
    band_centre_hz: Tensor
    band_fraction: Tensor
    pitch: Tensor
    semitones: Tensor
    delay: Tensor
    delay_ms: Tensor
    reflections: Tensor
    attenuation_db: Tensor
    volume: Tensor

    def to(self, device: torch.device | str) -> ChainParameters:
        """Return a copy with every tensor on ``device``."""
        return replace(self, **{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def __len__(self) -> int:
        return self.chain.shape[0]


class AugmentationChain(nn.Module):
    """Table 1's stochastic augmentation chain on batches ``[B, 1, L]`` (Sec. 4.2, 5.3).

    Parameters
    ----------
    sample_rate : int
        Sample rate in Hz (22050 in the paper).
    severity : int
        0..4 (Sec. 5.3): 2 is the training chain, 0 the identity; see
        :func:`severity_ranges`.
    p_chain : float
        Probability of augmenting an example at all at severity 2 (the authors' 0.8).
    exclude : iterable of str
        Stages of :data:`STAGES` never applied, e.g. ``("pitch",)`` for the paper's pitch
        and key models (Table 3). Their draws still happen, so the other stages get the same
        parameters from the same seed.

    Examples
    --------
    >>> chain = AugmentationChain(22050)
    >>> x = torch.randn(8, 1, 59535) * 0.1
    >>> y = chain(x, generator=torch.Generator().manual_seed(0))
    >>> y.shape
    torch.Size([8, 1, 59535])
    """

    def __init__(self, sample_rate: int, severity: int = 2, p_chain: float = 0.8,
                 exclude=()):
        super().__init__()
        exclude = (exclude,) if isinstance(exclude, str) else tuple(exclude)
        unknown = sorted(set(exclude) - set(STAGES))
        if unknown:
            raise ValueError(f"exclude: unknown stages {unknown}; choose from {list(STAGES)}")
        ranges = severity_ranges(severity, sample_rate, p_chain)
        self.ranges = replace(ranges, **{f"p_{stage}": 0.0 for stage in exclude})
        self.sample_rate = sample_rate
        self.severity = severity
        self.exclude = exclude

    def extra_repr(self) -> str:
        """Summarise the chain in ``repr``."""
        excluded = f", exclude={self.exclude}" if self.exclude else ""
        return f"sample_rate={self.sample_rate}, severity={self.severity}{excluded}"

    def sample_parameters(self, batch_size: int,
                          generator: torch.Generator | None = None) -> ChainParameters:
        """Draw every example's parameters (always the same sequence of draws from ``generator``).

        Uniform draws within each range; cutoffs and centres uniform on the mel scale and
        the filter kind uniform over :data:`FILTER_KINDS` (as torch-audiomentations'
        ``OneOf`` + filters, which the authors used); reflections uniform over whole numbers.

        Parameters
        ----------
        batch_size : int
            ``B``.
        generator : torch.Generator, optional
            Source of randomness; the tensors live on its device (CPU if ``None``).

        Returns
        -------
        ChainParameters
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 0:
            raise ValueError(f"batch_size must be a non-negative int, got {batch_size!r}")
        r = self.ranges
        device = generator.device if generator is not None else torch.device("cpu")

        def uniform(low_high):
            low, high = low_high
            return low + (high - low) * torch.rand(batch_size, generator=generator, device=device)

        def coin(p):
            return torch.rand(batch_size, generator=generator, device=device) < p

        def mel_uniform(low_high):
            low, high = (convert_frequencies_to_mels(torch.tensor(v)).item() for v in low_high)
            return convert_mels_to_frequencies(uniform((low, high)))

        chain = coin(r.p_chain)
        return ChainParameters(
            chain=chain,
            gain=coin(r.p_gain) & chain,
            gain_db=uniform(r.gain_db),
            polarity=coin(r.p_polarity) & chain,
            noise=coin(r.p_noise) & chain,
            snr_db=uniform(r.snr_db),
            decay_db_per_octave=uniform(r.decay_db_per_octave),
            noise_seed=torch.randint(0, 2**62, (batch_size,), generator=generator,
                                     device=device),
            filter=coin(r.p_filter) & chain,
            filter_kind=torch.randint(0, len(FILTER_KINDS), (batch_size,), generator=generator,
                                      device=device),
            lowpass_hz=mel_uniform(r.lowpass_hz),
            highpass_hz=mel_uniform(r.highpass_hz),
            band_centre_hz=mel_uniform(r.band_centre_hz),
            band_fraction=uniform(r.band_fraction),
            pitch=coin(r.p_pitch) & chain,
            semitones=uniform(r.semitones),
            delay=coin(r.p_delay) & chain,
            delay_ms=uniform(r.delay_ms),
            reflections=torch.randint(r.reflections[0], r.reflections[1] + 1, (batch_size,),
                                      generator=generator, device=device),
            attenuation_db=uniform(r.attenuation_db),
            volume=uniform(r.volume),
        )

    def apply(self, x: Tensor, params: ChainParameters) -> Tensor:
        """Apply drawn parameters to ``x``, stage by stage, each on the examples it selects.

        Parameters
        ----------
        x : Tensor
            ``[B, 1, L]`` float audio.
        params : ChainParameters
            From :meth:`sample_parameters` with ``batch_size = B``.

        Returns
        -------
        Tensor
            ``[B, 1, L]``, same dtype and device; unselected examples are unchanged.
        """
        _check_audio(x)
        if len(params) != x.shape[0]:
            raise ValueError(f"params hold {len(params)} examples but x has {x.shape[0]}")
        p = params.to(x.device)
        if not bool(p.chain.any()):
            return x.clone()
        # Gain and polarity are one per-example factor.
        scale = torch.where(p.gain, torch.pow(10.0, p.gain_db / 20.0), 1.0)
        scale = torch.where(p.polarity, -scale, scale)
        out = x * scale.to(x.dtype).view(-1, 1, 1)
        # Noise alone costs one inverse FFT; a filter (with or without noise) a forward and
        # an inverse one, so the two groups go separately.
        rows = _rows(p.noise & ~p.filter)
        if rows.numel():
            sub = out[rows]
            out[rows] = _noise_and_filter(sub, self.sample_rate, _noise_rms(sub, p.snr_db[rows]),
                                          p.decay_db_per_octave[rows], p.noise_seed[rows].tolist())
        rows = _rows(p.filter)
        if rows.numel():
            sub = out[rows]
            snr_db = torch.where(p.noise[rows], p.snr_db[rows], math.inf)  # inf: no noise
            band = _band_edges(p.filter_kind[rows], p.lowpass_hz[rows], p.highpass_hz[rows],
                               p.band_centre_hz[rows], p.band_fraction[rows])
            out[rows] = _noise_and_filter(sub, self.sample_rate, _noise_rms(sub, snr_db),
                                          p.decay_db_per_octave[rows], p.noise_seed[rows].tolist(),
                                          band)
        rows = _rows(p.pitch)
        if rows.numel():
            out[rows] = pitch_shift(out[rows], self.sample_rate, p.semitones[rows])
        rows = _rows(p.delay)
        if rows.numel():
            out[rows] = delay(out[rows], self.sample_rate, p.delay_ms[rows], p.volume[rows],
                              p.reflections[rows] + 1,  # reflections = echoes after the dry term
                              torch.pow(10.0, p.attenuation_db[rows] / 20.0))
        return out

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Augment a batch: each example gets its own draw (see :meth:`sample_parameters`).

        Parameters
        ----------
        x : Tensor
            ``[B, 1, L]`` float audio, CPU or GPU.
        generator : torch.Generator, optional
            Source of randomness (the global generator if ``None``).

        Returns
        -------
        Tensor
            ``[B, 1, L]``, same dtype and device.
        """
        _check_audio(x)
        return self.apply(x, self.sample_parameters(x.shape[0], generator))


def _noise_rms(x: Tensor, snr_db: Tensor) -> Tensor:
    """Return the noise RMS ``[B]`` that puts each example of ``x`` at ``snr_db`` (inf: 0)."""
    return x.float().pow(2).mean((1, 2)).sqrt() / torch.pow(10.0, snr_db.float() / 20.0)


def _rows(mask: Tensor) -> Tensor:
    """Return the indices where ``mask`` is true."""
    return mask.nonzero().flatten()
