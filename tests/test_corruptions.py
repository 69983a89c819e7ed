"""Tests for semisup.corruptions (novel corruptions of Appendix 9.4)."""

import math

import pytest
import torch

from semisup.corruptions import CORRUPTIONS, SPLICE_SPANS, corrupt

SR = 22050


def clips(batch=3, seconds=1.0, seed=0):
    """Decaying harmonic notes every 250 ms plus a little noise, [B, 1, L], peak 0.5."""
    g = torch.Generator().manual_seed(seed)
    length = round(seconds * SR)
    t = torch.arange(length) / SR
    out = torch.zeros(batch, 1, length)
    for start in range(0, length, SR // 4):
        f0 = 110 * 2 ** (torch.randint(0, 24, (batch, 1), generator=g) / 12)
        env = torch.exp(-(t - start / SR).clamp_min(0) / 0.15) * (t >= start / SR)
        out[:, 0] += env * sum(0.6**k * torch.sin(2 * math.pi * f0 * (k + 1) * t)
                               for k in range(6))
    out += 0.01 * torch.randn(out.shape, generator=g)
    return 0.5 * out / out.abs().amax(-1, keepdim=True)


def relative_distance(y, x):
    return ((y - x).double().pow(2).mean((1, 2)) / x.double().pow(2).mean((1, 2))).sqrt()


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_shape_dtype_identity_and_determinism(name):
    x = clips().double()
    assert torch.equal(corrupt(x, SR, name, 0.0), x)
    y1 = corrupt(x, SR, name, 0.6, generator=torch.Generator().manual_seed(1))
    y2 = corrupt(x, SR, name, 0.6, generator=torch.Generator().manual_seed(1))
    assert y1.shape == x.shape and y1.dtype == x.dtype and y1.device == x.device
    assert torch.isfinite(y1).all()
    assert torch.equal(y1, y2)
    assert (relative_distance(y1, x) > 1e-3).all()  # bitcrush at 0.6 is ~9 bits: subtle


@pytest.mark.parametrize("name", ["chorus", "distortion", "reverb", "compression", "bitcrush",
                                  "splice_out"])
def test_effect_grows_with_strength(name):
    x = clips()
    strengths = [0.0, 0.25, 0.5, 0.75, 1.0]
    distance = torch.stack([
        relative_distance(corrupt(x, SR, name, s, generator=torch.Generator().manual_seed(0)), x)
        for s in strengths])  # (strength, B)
    assert (distance.diff(dim=0) >= -1e-6).all(), distance
    assert (distance[-1] > distance[2] + 0.01).all() and (distance[2] > 0).all()


def test_time_stretch_moves_an_onset_in_proportion_to_strength():
    """The effect of a stretch is a move in time: an onset at 0.5 s lands at 0.5 / rate s."""
    length = SR
    x = torch.zeros(4, 1, length)
    t = torch.arange(length) / SR
    onset = t >= 0.5
    x[:, 0] = 0.3 * torch.sin(2 * math.pi * 440 * t) * onset * torch.exp(-(t - 0.5).clamp_min(0))
    previous = torch.zeros(4)
    for strength in (0.25, 0.5, 1.0):
        y = corrupt(x, SR, "time_stretch", strength, generator=torch.Generator().manual_seed(2))
        energy = y[:, 0].abs()
        moved = (energy > 0.05).float().argmax(-1) / SR - 0.5  # first loud sample - 0.5 s
        rate = 1 + 0.3 * strength
        expected = torch.tensor([0.5 / rate - 0.5, 0.5 * rate - 0.5])
        assert all(min(abs(m - e) for e in expected) < 0.02 for m in moved.tolist()), moved
        assert (moved.abs() > previous.abs()).all()
        previous = moved
    assert y.shape == x.shape


def test_splice_out_zeroes_nested_spans():
    x = torch.ones(2, 1, SR)
    spans = [corrupt(x, SR, "splice_out", s, generator=torch.Generator().manual_seed(3)) == 0
             for s in (0.5, 1.0)]
    assert spans[0].any() and (spans[1] | ~spans[0]).all()  # larger strength: superset
    zeroed_seconds = spans[1].sum((1, 2)).float() / SR
    assert (zeroed_seconds <= SPLICE_SPANS * 0.1).all()


def test_time_stretch_without_generator():
    y = corrupt(clips(batch=2), SR, "time_stretch", 0.5)  # global generator
    assert y.shape == (2, 1, SR)


@pytest.mark.parametrize("strength", [-0.1, 1.5, float("nan"), True, "0.5", None])
def test_bad_strength(strength):
    with pytest.raises(ValueError, match="strength"):
        corrupt(clips(batch=1), SR, "reverb", strength)


def test_bad_name_and_audio():
    with pytest.raises(ValueError, match="unknown corruption 'flanger'"):
        corrupt(clips(batch=1), SR, "flanger", 0.5)
    with pytest.raises(ValueError, match=r"unsqueeze\(1\)"):
        corrupt(torch.zeros(2, 100), SR, "reverb", 0.5)
    with pytest.raises(ValueError, match="sample_rate"):
        corrupt(clips(batch=1), 0, "reverb", 0.5)


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_clips_shorter_than_the_stft_window(name):
    """Regression: time_stretch reflect-padded 512 samples and failed on short clips."""
    x = 0.1 * torch.randn(2, 1, 300, generator=torch.Generator().manual_seed(0))
    y = corrupt(x, SR, name, 0.7, generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape and torch.isfinite(y).all()
