"""Hear and see what a transform does to a clip: before/after players and log-mel spectrograms.

Used by the robustness notebook to show each augmentation of Table 1 and each corruption of
Appendix 9.4 on a real clip, e.g.::

    from semisup.listen import render_transform
    from semisup.augment import pitch_shift
    render_transform(clip, 22050, lambda x: pitch_shift(x, 22050, 3.0), "pitch +3")

A :class:`Comparison` shows itself in a notebook (two audio players side by side and one
figure); its ``figure`` and ``before``/``after`` players can also be used on their own.

Conventions
-----------
- A clip is ``[L]``, ``[1, L]`` or ``[1, 1, L]`` float audio (tensor or numpy), mono.
- Both players share one scale factor (only if the louder clip would clip), so a change of
  loudness stays audible; both spectrograms share one colour scale (dB, the louder clip's
  peak at 0 dB, 80 dB range).
- Log-mel: 1024-point STFT, hop 256, 96 mel bands up to Nyquist (torchaudio).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torchaudio
from IPython.display import Audio
from matplotlib.figure import Figure
from torch import Tensor

from semisup.checks import check_sample_rate

__all__ = ["Comparison", "compare", "render_transform", "log_mel"]

TOP_DB = 80.0


def _as_clip(clip, name: str) -> Tensor:
    """Return ``clip`` as a float32 CPU tensor ``[L]``; raise for anything but mono audio."""
    tensor = torch.as_tensor(np.asarray(clip.detach().cpu() if isinstance(clip, Tensor) else clip))
    if tensor.dim() > 1 and all(s == 1 for s in tensor.shape[:-1]):
        tensor = tensor.reshape(-1)
    if tensor.dim() != 1 or tensor.numel() == 0:
        raise ValueError(
            f"{name} must be one mono clip [L], [1, L] or [1, 1, L], got shape "
            f"{tuple(tensor.shape)}; pick one example, e.g. batch[0, 0]"
        )
    if not tensor.dtype.is_floating_point:
        raise ValueError(f"{name} must be float audio, got dtype {tensor.dtype}")
    return tensor.float()


def log_mel(clip: Tensor, sample_rate: int, n_mels: int = 96) -> Tensor:
    """Return the power log-mel spectrogram ``[n_mels, frames]`` in dB (not normalised).

    Parameters
    ----------
    clip : Tensor
        ``[L]`` float audio.
    sample_rate : int
        Sample rate in Hz.
    n_mels : int
        Number of mel bands.

    Returns
    -------
    Tensor
        ``[n_mels, frames]`` power in dB, floored at -200 dB.
    """
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate, n_fft=1024, hop_length=256, n_mels=n_mels,
        window_fn=lambda n: torch.hann_window(n, dtype=torch.float64).float())(clip)
    return 10.0 * torch.log10(mel.clamp_min(1e-20))


@dataclass
class Comparison:
    """Before/after audio players and spectrogram figure of one transform on one clip."""

    title: str
    before: Audio
    after: Audio
    figure: Figure

    def _figure_png(self) -> str:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", bbox_inches="tight")
        return base64.b64encode(buffer.getvalue()).decode()

    def _repr_html_(self) -> str:
        """Render players and figure in a notebook cell."""
        return (
            f"<div><b>{html.escape(self.title)}</b>"
            "<table><tr><th>before</th><th>after</th></tr><tr>"
            f"<td>{self.before._repr_html_()}</td><td>{self.after._repr_html_()}</td></tr>"
            f"</table><img src='data:image/png;base64,{self._figure_png()}'/></div>"
        )


def compare(before, after, sample_rate: int, title: str = "") -> Comparison:
    """Build players and log-mel spectrograms of a clip before and after a transform.

    Parameters
    ----------
    before, after : Tensor or numpy array
        One mono clip each, ``[L]``, ``[1, L]`` or ``[1, 1, L]`` (lengths may differ).
    sample_rate : int
        Sample rate in Hz.
    title : str
        Shown above the players and on the figure.

    Returns
    -------
    Comparison
        Displays itself in a notebook.
    """
    check_sample_rate(sample_rate)
    before, after = _as_clip(before, "before"), _as_clip(after, "after")
    if not (torch.isfinite(before).all() and torch.isfinite(after).all()):
        raise ValueError("before and after must be finite (no NaN/inf samples)")
    peak = max(before.abs().max().item(), after.abs().max().item())
    scale = 1.0 / peak if peak > 1.0 else 1.0  # one factor for both: loudness stays comparable
    players = [Audio((clip * scale).numpy(), rate=sample_rate, normalize=False)
               for clip in (before, after)]
    mels = [log_mel(clip, sample_rate) for clip in (before, after)]
    top = max(m.max().item() for m in mels)
    figure = Figure(figsize=(10, 3.2), layout="constrained")
    axes = figure.subplots(1, 2, sharey=True)
    seconds = [clip.numel() / sample_rate for clip in (before, after)]
    for ax, mel, label, duration in zip(axes, mels, ("before", "after"), seconds, strict=True):
        image = ax.imshow(mel.numpy(), origin="lower", aspect="auto", cmap="magma",
                          vmin=top - TOP_DB, vmax=top, extent=(0, duration, 0, mel.shape[0]))
        ax.set_title(f"{title} — {label}" if title else label)
        ax.set_xlabel("time (s)")
    axes[0].set_ylabel("mel band")
    figure.colorbar(image, ax=axes, label="power (dB)")
    return Comparison(title, players[0], players[1], figure)


def render_transform(clip, sample_rate: int, transform: Callable[[Tensor], Tensor],
                     title: str = "") -> Comparison:
    """Apply ``transform`` to one clip and :func:`compare` the result with the original.

    Parameters
    ----------
    clip : Tensor or numpy array
        One mono clip, ``[L]``, ``[1, L]`` or ``[1, 1, L]``.
    sample_rate : int
        Sample rate in Hz.
    transform : callable
        Maps a batch ``[1, 1, L]`` to ``[1, 1, L']``, e.g. ``lambda x: chain(x, generator=g)``
        or ``lambda x: corrupt(x, sr, "reverb", 0.5)``.
    title : str
        Label of the comparison.

    Returns
    -------
    Comparison
    """
    if not callable(transform):
        raise TypeError(f"transform must be callable, got {type(transform).__name__}")
    batch = _as_clip(clip, "clip").view(1, 1, -1)
    with torch.no_grad():
        after = transform(batch)
    return compare(batch, after, sample_rate, title)
