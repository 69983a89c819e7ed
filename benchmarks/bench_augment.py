"""Throughput of the Table 1 augmentation chain: ours against torch-audiomentations, one run.

Input of issue #5: B = 32 crops x 59 535 samples (2.7 s at 22 050 Hz) of synthetic music
(harmonic notes with onsets plus noise bursts; the cost does not depend on the content).
- ours: semisup.augment.AugmentationChain(22050, severity=2): gain, polarity, coloured
  noise, one filter, pitch shift and delay, p_chain = 0.8;
- baseline: the equivalent torch-audiomentations Compose (same probabilities and ranges,
  p = 0.8). The library has no delay, so the baseline runs without one: the ratio is a
  lower bound.
Each batch gets a fresh random draw; the two chains are timed in alternating rounds so that
load from other processes hits both alike; the ratio compares mean seconds per batch.

    python benchmarks/bench_augment.py [--threads 2] [--rounds 4] [--batch 32] [--quality]

--quality also prints the pitch-shift quality figures (ours and torch-audiomentations'
torch_pitch_shift): pitch error of a shifted harmonic tone, loudness change, extra
high-frequency energy at the crop edges, and the log-spectral distance of a shift up and
back down on synthetic music.
"""

import argparse
import math
import os
import random
import time
import warnings

import torch
from torch_audiomentations import (
    AddColoredNoise,
    BandPassFilter,
    BandStopFilter,
    Compose,
    Gain,
    HighPassFilter,
    LowPassFilter,
    OneOf,
    PitchShift,
    PolarityInversion,
)
from torch_pitch_shift import pitch_shift as library_pitch_shift

from semisup.augment import AugmentationChain, ChainParameters
from semisup.pitch import pitch_shift, realised_semitones
from semisup.signals import (
    edge_click_db,
    harmonic_tone,
    log_spectral_distance_db,
    loudness_change_db,
    partial_frequency,
    synthetic_music,
)

SR = 22050
STAGES = ("gain", "polarity", "noise", "filter", "pitch", "delay")


def baseline_chain():
    """torch-audiomentations with Table 1's probabilities and ranges (no delay in the library)."""
    return Compose([
        Gain(min_gain_in_db=-15.0, max_gain_in_db=5.0, p=0.4),
        PolarityInversion(p=0.6),
        AddColoredNoise(min_snr_in_db=3.0, max_snr_in_db=30.0, min_f_decay=-2.0,
                        max_f_decay=2.0, p=0.6, sample_rate=SR),
        OneOf([
            LowPassFilter(min_cutoff_freq=150.0, max_cutoff_freq=7000.0, p=0.3),
            HighPassFilter(min_cutoff_freq=200.0, max_cutoff_freq=2400.0, p=0.3),
            BandPassFilter(min_center_frequency=200.0, max_center_frequency=4000.0,
                           min_bandwidth_fraction=0.5, max_bandwidth_fraction=1.99, p=0.3),
            BandStopFilter(min_center_frequency=200.0, max_center_frequency=4000.0,
                           min_bandwidth_fraction=0.5, max_bandwidth_fraction=1.99, p=0.3),
        ]),
        PitchShift(min_transpose_semitones=-4.0, max_transpose_semitones=4.0, p=0.6,
                   sample_rate=SR),
    ], p=0.8, output_type="tensor")


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def quality(length):
    """Print pitch-shift quality figures for ours and the library's shifter."""
    from fractions import Fraction

    shifters = {
        "ours": lambda x, st: pitch_shift(x, SR, st),
        "torch_pitch_shift": lambda x, st: library_pitch_shift(
            x, Fraction(2 ** (st / 12)).limit_denominator(100), SR),
    }
    music = synthetic_music(8, length, SR, seed=1)
    print("pitch-shift quality: 220 Hz harmonic tone (error, loudness, edges) and synthetic "
          "music (up and back down, log-spectral distance)")
    for name, shift in shifters.items():
        for st in (-4.0, -1.0, 2.5, 4.0):
            x = harmonic_tone(220.0, length, SR)
            y = shift(x, st)
            ratio = (2 ** (realised_semitones(st, SR).item() / 12) if name == "ours"
                     else float(Fraction(2 ** (st / 12)).limit_denominator(100)))
            measured = partial_frequency(y, SR, 220 * ratio)
            applied = 1200 * math.log2(measured / (220 * ratio))
            requested = 1200 * math.log2(measured / (220 * 2 ** (st / 12)))
            loud = loudness_change_db(x, y)
            back = shift(shift(music, st), -st)
            music_loud = loudness_change_db(music, shift(music, st))
            print(f"  {name:17s} {st:+5.1f} st: pitch error {requested:+5.2f} cents "
                  f"({applied:+5.2f} vs the ratio applied),"
                  f" tone loudness {loud:+5.2f} dB, music loudness {music_loud:+5.2f} dB, "
                  f"edge HF excess {edge_click_db(y, 220).max():+5.1f} dB, round-trip LSD "
                  f"{log_spectral_distance_db(music, back):5.2f} dB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--samples", type=int, default=59535)
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternating rounds: 1 baseline batch, then --ours-per-round")
    parser.add_argument("--ours-per-round", type=int, default=10)
    parser.add_argument("--quality", action="store_true", help="also print quality figures")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", module="torch_audiomentations")
    torch.manual_seed(0)
    random.seed(0)
    x = synthetic_music(args.batch, args.samples, SR)
    ours, base = AugmentationChain(SR, severity=2), baseline_chain()
    seeds = iter(range(10**6))

    def run_ours():
        ours(x, generator=torch.Generator().manual_seed(next(seeds)))

    def run_base():
        base(x.clone(), sample_rate=SR)

    load_before = os.getloadavg()[0]
    run_ours(), run_base()  # warm-up (FFT plans, caches)
    ours_s, base_s = [], []
    for _ in range(args.rounds):
        base_s.append(timed(run_base))
        ours_s.extend(timed(run_ours) for _ in range(args.ours_per_round))
    ours_rate = args.batch * len(ours_s) / sum(ours_s)
    base_rate = args.batch * len(base_s) / sum(base_s)

    # Where our time goes: each stage alone on the examples it selects (same draws).
    draws = [ours.sample_parameters(args.batch, torch.Generator().manual_seed(s))
             for s in range(args.ours_per_round)]
    stage_ms = {}
    for stage in STAGES:
        only = [ChainParameters(**{**p.__dict__, **{s: p.__dict__[s] & (s == stage)
                                                     for s in STAGES}}) for p in draws]
        stage_ms[stage] = 1e3 * sum(timed(lambda p=p: ours.apply(x, p)) for p in only) / len(only)

    print(f"input: {args.batch} clips x {args.samples} samples at {SR} Hz; "
          f"{args.threads} threads; {len(base_s)} baseline and {len(ours_s)} ours batches; "
          f"1-min load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
          f"({os.cpu_count()} cores: other processes slow both, ours more)")
    print(f"torch-audiomentations chain (no delay): {base_rate:8.1f} clips/s")
    print(f"ours (semisup.augment, with delay)    : {ours_rate:8.1f} clips/s")
    print(f"ratio ours / baseline                 : {ours_rate / base_rate:8.1f}x")
    print("ours per stage, ms per batch (stage alone, p_chain and Table 1 probabilities): "
          + ", ".join(f"{k} {v:.1f}" for k, v in stage_ms.items()))
    if args.quality:
        quality(args.samples)


if __name__ == "__main__":
    main()
