"""Tests for semisup.listen (before/after players and spectrograms)."""

import io

import numpy as np
import pytest
import soundfile
import torch
from IPython.display import Audio

from semisup.listen import compare, log_mel, render_transform

SR = 8000


def test_render_transform_gives_players_and_two_spectrograms():
    clip = 0.5 * torch.sin(2 * torch.pi * 440 * torch.arange(SR) / SR)
    cmp = render_transform(clip, SR, lambda x: 4 * x, "gain +12 dB")
    assert isinstance(cmp.before, Audio) and isinstance(cmp.after, Audio)
    axes = [ax for ax in cmp.figure.axes if ax.images]
    assert len(axes) == 2 and "gain +12 dB" in axes[0].get_title()
    html = cmp._repr_html_()
    assert html.count("<audio") == 2 and "data:image/png;base64," in html
    # One scale for both players (the louder peak, 2.0, maps to 1): loudness stays audible.
    before, _ = soundfile.read(io.BytesIO(cmp.before.data))
    after, _ = soundfile.read(io.BytesIO(cmp.after.data))
    assert after.max() == pytest.approx(1.0, abs=1e-3)
    assert before.max() == pytest.approx(0.25, abs=1e-3)


def test_log_mel_is_in_db_and_tracks_level():
    clip = torch.randn(SR)
    quiet, loud = log_mel(0.1 * clip, SR), log_mel(clip, SR)
    assert quiet.shape == (96, SR // 256 + 1)
    assert torch.allclose(loud - quiet, torch.full_like(loud, 20.0), atol=1e-3)


def test_compare_accepts_numpy_and_batch_shapes():
    x = np.zeros((1, 1, 4000), dtype=np.float32)
    cmp = compare(x, torch.zeros(4000), SR)
    assert len(cmp.figure.axes) >= 2


def test_bad_inputs():
    with pytest.raises(ValueError, match="mono clip"):
        compare(torch.zeros(2, 100), torch.zeros(100), SR)
    with pytest.raises(ValueError, match="float"):
        compare(torch.zeros(100, dtype=torch.int16), torch.zeros(100), SR)
    with pytest.raises(ValueError, match="sample_rate"):
        compare(torch.zeros(100), torch.zeros(100), 0)
    with pytest.raises(TypeError, match="callable"):
        render_transform(torch.zeros(100), SR, "gain")
