"""Test signals and measurements for checking audio transforms (Table 1's augmentations).

The pitch-shift tests and ``benchmarks/bench_augment.py --quality`` ask the same questions
of a transform: did a partial land where it should, did the loudness stay, did the crop
edges click, how far is a round trip from the original. One implementation answers them
for both, so a figure printed by the benchmark means what the test asserts.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["harmonic_tone", "synthetic_music", "partial_frequency", "loudness_change_db",
           "edge_click_db", "log_spectral_distance_db"]


def harmonic_tone(f0: float, samples: int, sample_rate: int, harmonics: int = 5, batch: int = 1) -> Tensor:
    """Make a steady harmonic tone ``[batch, 1, samples]``: partial k at ``(k+1)·f0``, amplitude 0.3·0.5**k."""
    t = torch.arange(samples, dtype=torch.float64) / sample_rate
    y = sum(0.5**k * torch.sin(2 * math.pi * f0 * (k + 1) * t + k) for k in range(harmonics))
    return (0.3 * y).float().expand(batch, 1, -1).clone()


def synthetic_music(batch: int, samples: int, sample_rate: int, seed: int = 0) -> Tensor:
    """Make a stand-in for real clips, ``[batch, 1, samples]``, from ``seed``.

    A note every 200 ms (8 decaying harmonics, random pitch over 3 octaves from 110 Hz) with a
    noise burst at each onset, peak-normalised to 0.5 per clip.
    """
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(samples) / sample_rate
    out = torch.zeros(batch, samples)
    for start in range(0, samples, sample_rate // 5):
        f0 = 110 * 2 ** (torch.randint(0, 36, (batch, 1), generator=g) / 12)
        env = torch.exp(-(t - start / sample_rate).clamp_min(0) / 0.3) * (t >= start / sample_rate)
        out += env * sum(0.6**k * torch.sin(2 * math.pi * f0 * (k + 1) * t) for k in range(8))
        burst = slice(start, min(samples, start + sample_rate // 50))
        out[:, burst] += 0.1 * torch.randn(batch, burst.stop - start, generator=g)
    return (0.5 * out / out.abs().amax(-1, keepdim=True)).unsqueeze(1)


def partial_frequency(y: Tensor, sample_rate: int, near_hz: float, n_fft: int = 1 << 20) -> float:
    """Frequency in Hz of the strongest partial within ±6 % of ``near_hz`` in one clip.

    The middle three quarters of the clip (edges excluded) are Hann-windowed and zero-padded
    to ``n_fft``; a parabola through the log magnitudes around the peak bin refines it to a
    small fraction of a cent for steady tones.
    """
    y = y.double().flatten()
    y = y[len(y) // 8: -len(y) // 8]
    spec = torch.fft.rfft(y * torch.hann_window(len(y), dtype=torch.float64), n=n_fft).abs()
    lo, hi = int(near_hz * 0.94 * n_fft / sample_rate), int(near_hz * 1.06 * n_fft / sample_rate)
    k = lo + int(spec[lo:hi].argmax())
    a, b, c = spec[k - 1].log(), spec[k].log(), spec[k + 1].log()
    return (k + 0.5 * (a - c) / (a - 2 * b + c)).item() * sample_rate / n_fft


def loudness_change_db(before: Tensor, after: Tensor) -> float:
    """RMS level of ``after`` relative to ``before``, in dB."""
    return 20 * math.log10(after.double().pow(2).mean().sqrt().item() / before.double().pow(2).mean().sqrt().item())


def edge_click_db(y: Tensor, edge: int) -> Tensor:
    """High-frequency energy at the first and last ``edge`` samples over the interior's, in dB.

    A click is a broadband burst, so third differences (which weight high frequencies) show
    it. ``y`` is ``[..., L]``; returns ``[..., 2]`` (start, end). Near 0 dB: no click.
    """
    d = y.double().diff(n=3, dim=-1)
    inner = d[..., edge:-edge].pow(2).mean(-1).sqrt()
    parts = torch.stack([d[..., :edge], d[..., -edge:]], dim=-2)
    return 20 * torch.log10(parts.pow(2).mean(-1).sqrt() / inner.unsqueeze(-1))


def log_spectral_distance_db(a: Tensor, b: Tensor, n_fft: int = 1024) -> float:
    """Measure how far ``b`` is from ``a``: RMS over bins of the dB difference of their spectrograms.

    Averaged over frames and clips; magnitudes are floored 80 dB below ``a``'s peak so
    silence does not dominate.
    """
    window = torch.hann_window(n_fft)
    spec = [torch.stft(v.reshape(-1, v.shape[-1]).float(), n_fft, n_fft // 4, window=window,
                       return_complex=True).abs() for v in (a, b)]
    floor = spec[0].amax() * 1e-4
    return (20 * torch.log10((spec[0] + floor) / (spec[1] + floor))).pow(2).mean(1).sqrt().mean().item()
