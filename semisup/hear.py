"""The HEAR 2021 common API for SemiSupCon encoders, so HEAR-style harnesses can evaluate them.

Usage::

    from semisup import hear
    model = hear.load_model("exported/semisupcon-mtat")     # or a run folder, or ""
    scene = hear.get_scene_embeddings(audio, model)          # [n_sounds, 512]
    frames, timestamps_ms = hear.get_timestamp_embeddings(audio, model)

The three functions and the model's attributes follow the HEAR 2021 specification
(hearbenchmark.com, "HEAR API"; checked by the HEAR validator): ``load_model(model_file_path="")``
returns a ``torch.nn.Module`` with ``sample_rate``, ``scene_embedding_size`` and
``timestamp_embedding_size`` (ints); ``get_scene_embeddings(audio, model)`` and
``get_timestamp_embeddings(audio, model)`` take ``audio`` ``[n_sounds, n_samples]``.

Conventions
-----------
- ``audio``: a float tensor ``[n_sounds, n_samples]`` of mono audio in [-1, 1] at
  ``model.sample_rate`` (16 000 Hz for ``small``, 22 050 Hz for the paper's encoders), of any
  length, shorter than one crop included. Audio is not resampled (the spec asks the
  harness to supply the model's rate). It is moved to the model's device; embeddings and
  timestamps come back there, as float32.
- Scene embeddings ``[n_sounds, D]``: the probes' test protocol (Sec. 4.3): the sound is cut
  into non-overlapping crops of ``L`` samples from its start (the incomplete tail dropped; a
  sound shorter than one crop is zero-padded to one), each crop is encoded and the crop
  embeddings are averaged (:func:`semisup.data.audio.cut_crops`). Unlike the probes, there is
  no 64-crop cap: HEAR sounds are at most 20 minutes.
- Timestamp embeddings ``[n_sounds, n_frames, D]`` with timestamps ``[n_sounds, n_frames]`` in
  milliseconds: frame ``k`` is centred at ``t_k = k * hop`` ms, ``k = 0 … floor(duration / hop)``,
  so frames are evenly spaced, start at 0 and end within one hop of the end of the sound. Its
  embedding is the encoder's output for the crop of ``L`` samples centred on sample
  ``round(t_k * sample_rate / 1000)``, zero-padded beyond the sound. Each centre is computed
  from ``k`` directly, so no rounding error accumulates over long sounds.
- ``hop`` = :data:`TIMESTAMP_HOP_MS` (50 ms, the spec's suggested upper bound for a 50 ms
  onset tolerance) unless ``hop_ms`` is passed, as the spec allows. Each frame costs one
  crop through the encoder (2.7 s for the paper's encoder: ~54 crops per second of audio).
"""

from __future__ import annotations

import math
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from semisup.data.audio import cut_crops

__all__ = ["TIMESTAMP_HOP_MS", "HearModel", "load_model", "get_scene_embeddings", "get_timestamp_embeddings",
           "frame_times"]

#: Default spacing of timestamp embeddings in ms (HEAR suggests <= 50 ms).
TIMESTAMP_HOP_MS = 50.0
#: Seed of the untrained encoder that ``load_model("")`` returns (the paper's seed, REFERENCE).
UNTRAINED_SEED = 123
#: Files inside a run or exported folder that ``load_model`` also accepts as the path.
_FOLDER_FILES = ("model.safetensors", "config.json", "checkpoint.pt")


class HearModel(nn.Module):
    """A frozen encoder with the attributes the HEAR 2021 API requires.

    Parameters
    ----------
    encoder : nn.Module
        A :mod:`semisup.encoders` encoder (or :class:`semisup.hub.SemiSupConEncoder`):
        audio ``[B, L]`` -> ``[B, D]``, with ``sample_rate``, ``crop_samples`` and ``embedding_dim``.
    timestamp_hop_ms : float
        Default spacing of timestamp embeddings, in ms.
    batch_crops : int
        Crops per encoder call (memory, not results).
    """

    def __init__(self, encoder: nn.Module, timestamp_hop_ms: float = TIMESTAMP_HOP_MS, batch_crops: int = 32):
        super().__init__()
        self.encoder = encoder
        self.sample_rate = int(encoder.sample_rate)
        self.crop_samples = int(encoder.crop_samples)
        self.scene_embedding_size = int(encoder.embedding_dim)
        self.timestamp_embedding_size = int(encoder.embedding_dim)
        self.timestamp_hop_ms = _check_hop(timestamp_hop_ms)
        self.batch_crops = batch_crops

    def forward(self, crops: Tensor) -> Tensor:
        """Encode crops ``[B, L]`` to embeddings ``[B, D]`` in batches of ``batch_crops``."""
        return torch.cat([self.encoder(part).float() for part in crops.split(self.batch_crops)])


def load_model(model_file_path: str = "") -> HearModel:
    """Load a SemiSupCon encoder for the HEAR API (frozen, eval mode, on the CPU).

    Parameters
    ----------
    model_file_path : str
        A folder written by ``python -m semisup.export``, a run folder of ``semisup.train``,
        or a ``model.safetensors`` / ``config.json`` / ``checkpoint.pt`` inside one. Only
        tensors are read. ``""`` (the spec's default) gives the untrained paper encoder
        (SampleCNN, weights from seed 123), the random-initialisation baseline, with a warning.

    Raises
    ------
    FileNotFoundError
        The path does not exist, or the folder is neither a run nor an export.
    ValueError
        A file that is not one of the folder files above; unreadable or unsafe weights.
    """
    from semisup.train import load_encoder

    if not model_file_path:
        from semisup.encoders import random_encoder

        warnings.warn(f"load_model(''): no weights given, using an untrained SampleCNN (seed {UNTRAINED_SEED})",
                      UserWarning, stacklevel=2)
        return HearModel(random_encoder("samplecnn", UNTRAINED_SEED)).eval()
    path = Path(os.fspath(model_file_path))
    if path.is_file():
        if path.name not in _FOLDER_FILES:
            raise ValueError(f"model_file_path={str(path)!r}: expected an exported or run folder, or one of "
                             f"{', '.join(_FOLDER_FILES)} inside one")
        path = path.parent
    elif not path.is_dir():
        raise FileNotFoundError(f"model_file_path={str(path)!r} does not exist")
    return HearModel(load_encoder(path)).eval()


def get_scene_embeddings(audio: Tensor, model: HearModel) -> Tensor:
    """Return one embedding per sound: float32 ``[n_sounds, model.scene_embedding_size]``.

    The mean of the sound's non-overlapping crop embeddings (module docstring).
    """
    audio = _check_audio(audio, model)  # [N, T]
    crops = torch.stack([cut_crops(sound, model.crop_samples) for sound in audio])  # [N, K, L]
    n_sounds, n_crops, length = crops.shape
    with _inference(model):
        embeddings = model(crops.reshape(n_sounds * n_crops, length))  # [N*K, D]
    return embeddings.reshape(n_sounds, n_crops, -1).mean(dim=1)  # [N, D]


def get_timestamp_embeddings(audio: Tensor, model: HearModel, hop_ms: float | None = None) -> tuple[Tensor, Tensor]:
    """Return embeddings at evenly spaced times and those times in milliseconds.

    Parameters
    ----------
    audio : Tensor
        ``[n_sounds, n_samples]`` mono audio at ``model.sample_rate``.
    model : HearModel
        From :func:`load_model`.
    hop_ms : float, optional
        Spacing of the frames in ms (default ``model.timestamp_hop_ms``, 50 ms).

    Returns
    -------
    embeddings : Tensor
        float32 ``[n_sounds, n_frames, model.timestamp_embedding_size]``.
    timestamps : Tensor
        float32 ``[n_sounds, n_frames]``: frame centres ``0, hop, 2 hop, …`` in ms, the last
        within one hop of the end of the sound.
    """
    hop_ms = model.timestamp_hop_ms if hop_ms is None else _check_hop(hop_ms)
    audio = _check_audio(audio, model)  # [N, T]
    n_sounds, n_samples = audio.shape
    length = model.crop_samples
    times_ms, centres = frame_times(n_samples, model.sample_rate, hop_ms)  # [F], [F]
    n_frames, centres = len(times_ms), centres.to(audio.device)
    # Pad so that the crop centred on sample c starts at c in padded coordinates.
    padded = F.pad(audio, (length // 2, length - length // 2))  # [N, T + L]
    offsets = torch.arange(length, device=audio.device)  # [L]
    frames_per_call = max(1, model.batch_crops // n_sounds)
    parts = []
    with _inference(model):
        for chunk in centres.split(frames_per_call):
            windows = padded[:, chunk[:, None] + offsets]  # [N, f, L]
            parts.append(model(windows.reshape(-1, length)).reshape(n_sounds, len(chunk), -1))  # [N, f, D]
    timestamps = times_ms.float().to(audio.device).expand(n_sounds, n_frames).contiguous()  # [N, F]
    return torch.cat(parts, dim=1), timestamps


def frame_times(n_samples: int, sample_rate: int, hop_ms: float) -> tuple[Tensor, Tensor]:
    """Return the frame times in ms (float64 ``[F]``) and their centre samples (int64 ``[F]``).

    ``t_k = k * hop_ms`` for ``k = 0 … floor(duration_ms / hop_ms)``; the centre of frame ``k``
    is ``round(t_k * sample_rate / 1000)``, computed from ``k`` alone (no drift: a 1102.5-sample
    hop at 22 050 Hz stays exact after 20 minutes).
    """
    duration_ms = 1000 * n_samples / sample_rate
    n_frames = math.floor(duration_ms / hop_ms + 1e-9) + 1
    times_ms = torch.arange(n_frames, dtype=torch.float64) * hop_ms  # [F]
    return times_ms, torch.round(times_ms * sample_rate / 1000).long()


def _check_hop(hop_ms) -> float:
    if isinstance(hop_ms, bool) or not isinstance(hop_ms, (int, float)) or not math.isfinite(hop_ms) or hop_ms <= 0:
        raise ValueError(f"hop_ms={hop_ms!r}: must be a positive number of milliseconds")
    return float(hop_ms)


def _check_audio(audio, model: HearModel) -> Tensor:
    """Return ``audio`` as float32 ``[N, T]`` on the model's device, or raise naming the problem."""
    if not isinstance(audio, Tensor):
        raise TypeError(f"audio must be a torch.Tensor [n_sounds, n_samples], got {type(audio).__name__}; "
                        f"use torch.from_numpy(x).float()")
    if audio.dim() != 2:
        raise ValueError(f"audio must be [n_sounds, n_samples] mono audio, got shape {tuple(audio.shape)}; "
                         f"pass one sound as audio[None] and downmix channels first")
    if not audio.dtype.is_floating_point:
        raise ValueError(f"audio must be float audio in [-1, 1], got dtype {audio.dtype}")
    if audio.shape[0] == 0 or audio.shape[1] == 0:
        raise ValueError(f"audio must hold at least one sound of at least one sample, got shape {tuple(audio.shape)}")
    if not torch.isfinite(audio).all():
        raise ValueError("audio holds NaN or infinite samples")
    device = next(model.parameters()).device
    return audio.to(device=device, dtype=torch.float32)


@contextmanager
def _inference(model: nn.Module):
    """Run ``model`` in eval mode without gradients, then restore its mode."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)
