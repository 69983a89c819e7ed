"""Waveform encoders and the projection head (Sec. 4.2 of the paper).

- :class:`SampleCNN` — the CLMR/SampleCNN encoder: a stride-3 stem and blocks of
  Conv(k3)+BN+ReLU+MaxPool(3), then Conv(512, k3)+BN+ReLU; 2.7 s at 22 050 Hz
  (59 535 samples) → 512-d. ~2.37 M parameters.
- :class:`TunePlus` — the Tailed U-Net "TUNe+" (Vásquez & Burgoyne, ISMIR 2022): a 1-D
  U-Net (4 pooling levels) whose "tail" pools the decoder output down again while
  concatenating the decoder's skip features, then 5 more pooling blocks → 512-d.
  ~2.2 M parameters with base width 11, as in the original.
- ``"small"`` — a narrow, shallow SampleCNN for laptop CPUs: 16 kHz, 19 683-sample crops
  (1.23 s), a stride-9 stem and 7 blocks of 32…256 channels, same 512-d output; one
  training step on 32 clips × 2 views takes ~0.2 s on 2 cores.
- :class:`ProjectionHead` — Linear(512, 512, no bias) → ReLU → Linear(512, 128, no bias).

Conventions
-----------
- Encoders take audio ``[B, L]`` or ``[B, 1, L]`` (mono) and return ``[B, 512]``.
- Each encoder carries ``sample_rate`` (Hz), ``crop_samples`` (its default input length)
  and ``min_samples``; :meth:`check_length` explains which lengths work.
- Where the time axis is longer than 1 after the last block, it is averaged: for the
  paper's 59 535-sample crop the pooled length is exactly 1 (SampleCNN) or 3 (TUNe+, whose
  original ends with AvgPool(3)), so this is the original computation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor, nn

__all__ = [
    "EncoderConfig",
    "ENCODER_CONFIGS",
    "SampleCNN",
    "TunePlus",
    "ProjectionHead",
    "ContrastiveModel",
    "build_encoder",
    "random_encoder",
]


@dataclass
class EncoderConfig:
    """Architecture and input settings of one encoder.

    ``name`` picks the class ("samplecnn" family or "tuneplus"); the other fields are
    the knobs each class reads.
    """

    name: str = "samplecnn"
    sample_rate: int = 22050  # Hz, Sec. 4.2
    crop_samples: int = 59535  # 2.7 s at 22 050 Hz, Sec. 4.2
    stem_channels: int = 128  # SampleCNN: first strided conv
    stem_stride: int = 3  # SampleCNN: kernel = stride of the first conv ("sample-level")
    block_channels: tuple[int, ...] = (128, 128, 256, 256, 256, 256, 256, 256, 512)
    base_channels: int = 11  # TUNe+: width of the first U-Net level
    embedding_dim: int = 512  # d_E, Sec. 4.2
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain-JSON form (tuples become lists)."""
        return asdict(self)


ENCODER_CONFIGS: dict[str, EncoderConfig] = {
    "samplecnn": EncoderConfig(),
    "tuneplus": EncoderConfig(name="tuneplus"),
    "small": EncoderConfig(
        name="small",
        sample_rate=16000,
        crop_samples=19683,  # 3^9: the stride-9 stem and 7 pools reduce it to length 1
        stem_channels=32,
        stem_stride=9,  # skips the most expensive full-rate level: ~10x cheaper on CPU
        block_channels=(32, 64, 64, 128, 128, 256, 256),
    ),
}


def _conv_block(in_channels: int, out_channels: int, pool: bool) -> nn.Sequential:
    """Conv1d(k3, pad 1) + BN + ReLU (+ MaxPool(3)): SampleCNN's and TUNe's unit."""
    layers = [
        nn.Conv1d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm1d(out_channels),
        nn.ReLU(inplace=True),
    ]
    if pool:
        layers.append(nn.MaxPool1d(3))
    return nn.Sequential(*layers)


class _Encoder(nn.Module):
    """Shared input handling: shape checks, length checks, [B, 1, L] layout."""

    def __init__(self, config: EncoderConfig, min_samples: int, multiple_of: int = 1):
        super().__init__()
        self.config = config
        self.sample_rate = config.sample_rate
        self.crop_samples = config.crop_samples
        self.embedding_dim = config.embedding_dim
        self.min_samples = min_samples
        self.multiple_of = multiple_of
        self.check_length(config.crop_samples)

    def check_length(self, n_samples: int) -> None:
        """Raise ValueError when the encoder cannot take ``n_samples``, saying which work."""
        if n_samples < self.min_samples or n_samples % self.multiple_of:
            multiple = f" and a multiple of {self.multiple_of}" if self.multiple_of > 1 else ""
            raise ValueError(
                f"{type(self).__name__} ({self.config.name}) cannot take crops of {n_samples} "
                f"samples: lengths must be >= {self.min_samples}{multiple} "
                f"(default crop: {self.crop_samples} samples = "
                f"{self.crop_samples / self.sample_rate:.2f} s at {self.sample_rate} Hz)"
            )

    def _as_batch(self, audio: Tensor) -> Tensor:
        if audio.dim() == 2:
            audio = audio.unsqueeze(1)  # [B, L] -> [B, 1, L]
        if audio.dim() != 3 or audio.shape[1] != 1:
            raise ValueError(
                f"audio must be mono [B, L] or [B, 1, L], got {tuple(audio.shape)}; "
                f"downmix stereo first (x.mean(1, keepdim=True))"
            )
        self.check_length(audio.shape[-1])
        return audio


class SampleCNN(_Encoder):
    """SampleCNN (Lee et al. 2018) as used by CLMR and the paper (Sec. 4.2).

    Parameters
    ----------
    config : EncoderConfig
        ``stem_channels`` and ``block_channels`` set the widths; ``len(block_channels)``
        pooling blocks follow the stem of stride ``stem_stride``, so inputs need at least
        ``stem_stride * 3 ** len(block_channels)`` samples.
    """

    def __init__(self, config: EncoderConfig):
        n_blocks = len(config.block_channels)
        super().__init__(config, min_samples=config.stem_stride * 3**n_blocks)
        widths = (config.stem_channels, *config.block_channels)
        self.stem = nn.Sequential(
            nn.Conv1d(1, config.stem_channels, kernel_size=config.stem_stride, stride=config.stem_stride),
            nn.BatchNorm1d(config.stem_channels),
            nn.ReLU(inplace=True),
        )
        self.blocks = nn.Sequential(
            *[_conv_block(widths[i], widths[i + 1], pool=True) for i in range(n_blocks)]
        )
        self.head = _conv_block(widths[-1], config.embedding_dim, pool=False)
        for module in self.modules():
            if isinstance(module, nn.Conv1d):
                nn.init.kaiming_uniform_(module.weight, mode="fan_in", nonlinearity="relu")

    def forward(self, audio: Tensor) -> Tensor:
        """Map ``[B, L]`` or ``[B, 1, L]`` audio to ``[B, 512]`` embeddings."""
        x = self.stem(self._as_batch(audio))  # [B, C0, L / stem_stride]
        x = self.head(self.blocks(x))  # [B, 512, T], T = 1 for the paper's crop
        return x.mean(dim=-1)  # [B, 512]


class TunePlus(_Encoder):
    """TUNe+ — Tailed U-Net (Vásquez & Burgoyne, ISMIR 2022), the paper's second encoder.

    Contracting path: 5 conv blocks of widths c, 2c, 4c, 8c, 16c with 4 max-pools.
    Expanding path: 4 transposed convs (k3, stride 3) with skip concatenations.
    Tail: the decoder output is pooled back down, concatenating the decoder features of the
    matching level at each step ("pink links"), then 5 more conv+pool blocks end in 512
    channels, averaged over time. Inputs need a length that is a multiple of 81 (four
    exact up/down-samplings) and at least 3^9 samples.
    """

    def __init__(self, config: EncoderConfig):
        super().__init__(config, min_samples=3**9, multiple_of=81)
        c = config.base_channels
        self.pool = nn.MaxPool1d(3)
        self.down = nn.ModuleList(
            [_conv_block(1, c, False)]
            + [_conv_block(c * 2**i, c * 2 ** (i + 1), False) for i in range(4)]
        )  # widths c, 2c, 4c, 8c, 16c
        self.upsample = nn.ModuleList(
            [nn.ConvTranspose1d(c * 2 ** (i + 1), c * 2**i, kernel_size=3, stride=3) for i in (3, 2, 1, 0)]
        )
        self.up = nn.ModuleList([_conv_block(c * 2 ** (i + 1), c * 2**i, False) for i in (3, 2, 1, 0)])
        # tail level i sees pooled features (c * 2^i) + decoder skip (c * 2^(i+1)) channels
        self.tail = nn.ModuleList(
            [_conv_block(3 * c * 2**i, c * 2 ** (i + 1), False) for i in range(4)]
        )
        widths = (16 * c, 32 * c, 32 * c, 32 * c, 32 * c, config.embedding_dim)
        self.extra = nn.ModuleList([_conv_block(widths[i], widths[i + 1], False) for i in range(5)])
        for module in self.modules():
            if isinstance(module, nn.Conv1d):
                nn.init.kaiming_uniform_(module.weight, mode="fan_in", nonlinearity="relu")

    def forward(self, audio: Tensor) -> Tensor:
        """Map ``[B, L]`` or ``[B, 1, L]`` audio to ``[B, 512]`` embeddings."""
        x = self._as_batch(audio)  # [B, 1, L]
        skips = []
        for i, block in enumerate(self.down):  # contracting: lengths L, L/3, ..., L/81
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        decoded = []
        for upsample, block, skip in zip(self.upsample, self.up, reversed(skips[:-1]), strict=True):
            x = block(torch.cat([upsample(x), skip], dim=1))  # back up to L/27 ... L
            decoded.append(x)
        # tail: pool the finest decoder output down, meeting coarser decoder levels
        levels = list(reversed(decoded[:-1])) + [skips[-1]]  # L/3, L/9, L/27 (decoder), L/81
        for block, level in zip(self.tail, levels, strict=True):
            x = block(torch.cat([self.pool(x), level], dim=1))
        for block in self.extra:
            x = block(self.pool(x))  # L/243 ... L/3^9
        return x.mean(dim=-1)  # [B, 512]


class ProjectionHead(nn.Module):
    """g: Linear(512, 512, no bias) → ReLU → Linear(512, 128, no bias) (Sec. 4.2, d_g = 128)."""

    def __init__(self, in_dim: int = 512, hidden_dim: int = 512, out_dim: int = 128):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_dim, hidden_dim, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(hidden_dim, out_dim, bias=False),
        )

    def forward(self, h: Tensor) -> Tensor:
        """Project ``[N, 512]`` encoder outputs to ``[N, 128]``."""
        return self.layers(h)


class ContrastiveModel(nn.Module):
    """Encoder E followed by projection head g: ``z = g(E(x))`` (Sec. 3.1)."""

    def __init__(self, encoder: _Encoder, projection_dim: int = 128):
        super().__init__()
        self.encoder = encoder
        self.projection = ProjectionHead(encoder.embedding_dim, encoder.embedding_dim, projection_dim)

    def forward(self, audio: Tensor) -> Tensor:
        """Map crops ``[B, V, L]`` to projections ``[B, V, 128]``."""
        b, v, n = audio.shape
        h = self.encoder(audio.reshape(b * v, 1, n))  # [B*V, 512]
        return self.projection(h).reshape(b, v, -1)  # [B, V, 128]


def build_encoder(name: str = "samplecnn", **overrides) -> _Encoder:
    """Build an encoder by name ("samplecnn", "tuneplus", "small") with field overrides.

    Examples
    --------
    >>> build_encoder("small").crop_samples
    19683
    """
    if name not in ENCODER_CONFIGS:
        raise ValueError(f"unknown encoder {name!r}; choose one of {sorted(ENCODER_CONFIGS)}")
    unknown = set(overrides) - set(EncoderConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown encoder config fields {sorted(unknown)}")
    config = EncoderConfig(**{**asdict(ENCODER_CONFIGS[name]), **overrides})
    config.block_channels = tuple(config.block_channels)
    cls = TunePlus if config.name == "tuneplus" else SampleCNN
    return cls(config)


def random_encoder(name: str, seed: int, device: str | torch.device = "cpu") -> _Encoder:
    """Build a randomly initialised, frozen encoder (the untrained baseline of probing studies).

    The weights are a pure function of ``(name, seed)``: they are drawn from a forked torch
    RNG seeded with ``seed`` (the global RNG is left as it was), on the CPU, then moved to
    ``device``. Returned in eval mode (BatchNorm uses its initial running statistics).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = build_encoder(name)
    return encoder.to(device).eval()
