"""Argument checks shared by the audio transforms (augmentations, pitch shift, corruptions)."""

from __future__ import annotations

from torch import Tensor

__all__ = ["check_audio", "check_sample_rate"]


def check_audio(x: Tensor, name: str = "x") -> None:
    """Raise if ``x`` is not float mono audio ``[B, 1, L]``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 3 or x.shape[1] != 1:
        raise ValueError(
            f"{name} must be mono audio [B, 1, L], got shape {tuple(x.shape)}; pass a [B, L] "
            f"batch as {name}.unsqueeze(1) and [B, V, L] views as {name}.reshape(B * V, 1, L)"
        )
    if not x.dtype.is_floating_point:
        raise ValueError(f"{name} must be a float tensor, got dtype {x.dtype}; use {name}.float()")


def check_sample_rate(sample_rate) -> int:
    """Return ``sample_rate`` if it is a positive int, else raise ValueError."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive int in Hz, got {sample_rate!r}")
    return sample_rate
