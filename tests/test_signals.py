"""The measurements behind the pitch-shift tests and bench_augment's quality figures."""

import math

import torch

from semisup.signals import (
    edge_click_db,
    harmonic_tone,
    log_spectral_distance_db,
    loudness_change_db,
    partial_frequency,
    synthetic_music,
)

SR = 22050


def test_partial_frequency_finds_each_partial_within_a_tenth_of_a_cent():
    x = harmonic_tone(233.0, SR, SR)
    for k in (1, 2, 3):
        cents = 1200 * math.log2(partial_frequency(x, SR, 233.0 * k) / (233.0 * k))
        assert abs(cents) < 0.1, (k, cents)


def test_loudness_and_spectral_distance_are_zero_for_a_copy_and_see_a_change():
    x = synthetic_music(2, SR, SR, seed=3)
    assert abs(loudness_change_db(x, x.clone())) < 1e-9
    assert log_spectral_distance_db(x, x.clone()) < 1e-4
    assert abs(loudness_change_db(x, 0.5 * x) - 20 * math.log10(0.5)) < 1e-6
    assert log_spectral_distance_db(x, x + 0.05 * torch.randn_like(x)) > 1.0


def test_edge_click_db_is_per_edge_and_flat_for_a_steady_tone():
    y = harmonic_tone(220.0, SR, SR, batch=3)[:, 0]
    clean = edge_click_db(y, 220)
    assert clean.shape == (3, 2) and (clean.abs() < 1.0).all(), clean
    y[1, :3] += 0.05
    clicked = edge_click_db(y, 220)
    assert clicked[1, 0] > 10 and (clicked[[0, 2]].abs() < 1.0).all() and clicked[1, 1].abs() < 1.0


def test_synthetic_music_is_seeded_and_peak_normalised():
    a, b = synthetic_music(3, 4000, SR, seed=1), synthetic_music(3, 4000, SR, seed=1)
    assert torch.equal(a, b) and not torch.equal(a, synthetic_music(3, 4000, SR, seed=2))
    torch.testing.assert_close(a.abs().amax(-1), torch.full((3, 1), 0.5))
