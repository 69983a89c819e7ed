"""A trained encoder as a folder others load: ``save_pretrained`` / ``from_pretrained``.

:class:`SemiSupConEncoder` is the frozen encoder of a run (Sec. 4.2: the 512-d ``E(x)``
that the probes use, Sec. 4.3) behind huggingface_hub's :class:`~huggingface_hub.PyTorchModelHubMixin`,
so a folder written by :mod:`semisup.export` loads with ``SemiSupConEncoder.from_pretrained(path)``
and a user who is online can ``push_to_hub`` it. ``torch.hub.load`` goes through the root
``hubconf.py``; :func:`semisup.train.load_encoder` reads the same folder.

Conventions
-----------
- An exported folder holds ``model.safetensors`` (tensors ``encoder.*``, plus
  ``projection.*`` when the projection head was kept), ``config.json`` and the model card
  ``README.md``. ``config.json`` holds the constructor's arguments: ``encoder`` (every
  :class:`~semisup.encoders.EncoderConfig` field: architecture, ``sample_rate``,
  ``crop_samples``), ``projection_head`` and ``training`` (the run's ``TrainConfig``, dataset
  specs included), plus ``format`` (:data:`FORMAT`).
- Weights are read as safetensors only, every tensor must match (strict), and a bad folder
  (no ``config.json``, an unknown encoder, a truncated weights file) is a ``ValueError`` or
  ``FileNotFoundError`` naming the file.
- ``forward`` maps audio ``[B, L]`` or ``[B, 1, L]`` to embeddings ``[B, 512]``, exactly
  the wrapped encoder's output (bit-identical to the run folder's encoder).
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import Tensor, nn

from semisup.checkpoint import read_safetensors
from semisup.encoders import ENCODER_CONFIGS, EncoderConfig, ProjectionHead, build_encoder

__all__ = ["FORMAT", "WEIGHTS", "CONFIG", "SemiSupConEncoder", "is_export", "load_export"]

#: Names of the exported files (huggingface_hub's conventions).
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
#: Layout version written into config.json.
FORMAT = "semisup-encoder/1"


class SemiSupConEncoder(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="semisup",
    pipeline_tag="feature-extraction",
    tags=["audio", "music", "contrastive-learning", "semisupcon"],
):
    """The frozen encoder of a SemiSupCon run, loadable with ``from_pretrained`` (Sec. 4.2).

    Parameters
    ----------
    encoder : dict
        :class:`~semisup.encoders.EncoderConfig` fields; ``name`` picks the architecture
        (``"samplecnn"``, ``"tuneplus"``, ``"small"``).
    projection_head : bool
        Also hold the projection head ``g`` (Linear 512→512, ReLU, Linear 512→128) as
        ``self.projection``; probes and :meth:`forward` do not use it.
    training : dict, optional
        The run's training config (``config.json`` of the run folder), kept for the record.
    format : str
        Layout version (:data:`FORMAT`).
    """

    def __init__(self, encoder: dict, projection_head: bool = False, training: dict | None = None,
                 format: str = FORMAT):  # named as the config.json key it is read from
        super().__init__()
        if format != FORMAT:
            raise ValueError(f"format={format!r}: this version of semisup reads {FORMAT!r}")
        config = dict(encoder)
        name = config.pop("name", None)
        if name not in ENCODER_CONFIGS:
            raise ValueError(f"encoder name {name!r} is unknown; choose one of {sorted(ENCODER_CONFIGS)}")
        known = {f.name for f in fields(EncoderConfig)}
        if set(config) - known:
            raise ValueError(f"unknown encoder config fields {sorted(set(config) - known)}")
        self.encoder = build_encoder(name, **config)
        self.projection = ProjectionHead(self.encoder.embedding_dim, self.encoder.embedding_dim) if projection_head else None
        self.training_config = training

    @property
    def sample_rate(self) -> int:
        """Input sample rate in Hz."""
        return self.encoder.sample_rate

    @property
    def crop_samples(self) -> int:
        """Default input length in samples (2.7 s at 22 050 Hz for the paper's encoder)."""
        return self.encoder.crop_samples

    @property
    def embedding_dim(self) -> int:
        """Size of the embeddings (512)."""
        return self.encoder.embedding_dim

    def forward(self, audio: Tensor) -> Tensor:
        """Map mono audio ``[B, L]`` or ``[B, 1, L]`` to embeddings ``[B, 512]``."""
        return self.encoder(audio)

    @classmethod
    def from_encoder(cls, encoder: nn.Module, projection: nn.Module | None = None,
                     training: dict | None = None) -> SemiSupConEncoder:
        """Wrap trained modules (their weights copied) for ``save_pretrained``."""
        model = cls(encoder.config.to_dict(), projection_head=projection is not None, training=training)
        model.encoder.load_state_dict(encoder.state_dict())
        if projection is not None:
            model.projection.load_state_dict(projection.state_dict())
        return model.eval()

    @classmethod
    def _from_pretrained(cls, *, model_id: str, revision, cache_dir, force_download, local_files_only, token,
                         map_location: str = "cpu", strict: bool = True, **model_kwargs):
        """Build from ``config.json`` and read ``model.safetensors`` (tensors only, strict by default)."""
        folder = Path(model_id)
        if folder.is_dir():
            weights = folder / WEIGHTS
        else:  # a Hub repository id: download (needs a network connection)
            from huggingface_hub import hf_hub_download

            weights = Path(hf_hub_download(model_id, WEIGHTS, revision=revision, cache_dir=cache_dir,
                                           force_download=force_download, local_files_only=local_files_only,
                                           token=token))
        try:
            model = cls(**model_kwargs)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{weights.parent / CONFIG}: cannot rebuild the encoder: {error}") from None
        state = read_safetensors(weights, map_location)
        problems = model.load_state_dict(state, strict=False)
        if strict and (problems.missing_keys or problems.unexpected_keys):
            raise ValueError(f"{weights} does not match {weights.parent / CONFIG}: missing tensors "
                             f"{problems.missing_keys[:5]}, unexpected tensors {problems.unexpected_keys[:5]}")
        return model.to(map_location).eval()

    def generate_model_card(self, *args, **kwargs):
        """Build the model card README.md: what it is, how it was trained, results, loading, citation."""
        from semisup.export import model_card

        return model_card(self, *args, **kwargs)


def is_export(folder: str | os.PathLike) -> bool:
    """Say whether ``folder`` is a folder written by :mod:`semisup.export` (it has ``model.safetensors``)."""
    return (Path(folder) / WEIGHTS).is_file()


def load_export(folder: str | os.PathLike, device: str | torch.device = "cpu") -> SemiSupConEncoder:
    """Load an exported folder (offline), in eval mode on ``device``.

    Raises
    ------
    FileNotFoundError
        ``folder`` has no ``config.json`` or no ``model.safetensors``.
    ValueError
        ``config.json`` is not valid JSON or names an unknown encoder, or the weights are
        truncated or do not match it; the message names the file.
    """
    folder = Path(folder)
    config_path = folder / CONFIG
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} not found: is {folder} a folder written by semisup.export?")
    try:
        json.loads(config_path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{config_path} is not valid JSON: {error}") from None
    return SemiSupConEncoder.from_pretrained(folder, map_location=str(torch.device(device)))
