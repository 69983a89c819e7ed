"""Frozen-encoder probes (Sec. 4.3, Sec. 5.2, Appendix 9.1 / Table 5).

The encoder is frozen and its projection head discarded. Each track is cut into
non-overlapping crops (up to 64), the crops' 512-d embeddings are averaged, and a small MLP
is trained on the averaged embeddings with Adam (lr 3e-4, batch 64) and early stopping on
the validation loss; the best-validation weights are restored before testing.

Conventions
-----------
- Embeddings are extracted once per (encoder weights, dataset, split, crop settings,
  corruption) and cached as ``.npz`` files keyed by a hash of all of these
  (:func:`extract_embeddings`); tracks are decoded in DataLoader workers while the encoder
  runs, and the result does not depend on the number of workers.
- Bad files never crash a probe: unreadable or empty files are left out (a warning names
  each) and counted per split in ``n_skipped_train``, ``n_skipped_valid`` and
  ``n_skipped_test`` rows; missing files are an error naming them.
- Probe inputs are standardised with the training split's mean and std (part of the probe,
  so the same numbers apply at test time): the ReLU encoder outputs have very different
  scales across checkpoints, and Adam at a fixed lr needs comparable inputs.
- Losses by task type: BCE (multi-label), cross-entropy (multi-class), MSE (regression).
- Results are tidy rows ``run, checkpoint, task, metric, value, seed``. Counts
  (``n_classes_scored``, ``n_skipped_<split>``) and corrupted evaluations
  (``"<corruption>/<metric>"``) share the table; :func:`score_rows` keeps the plain scores.
"""

from __future__ import annotations

import copy
import hashlib
import os
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from semisup.data.audio import AudioFileError, MissingAudioError, SkippedFiles, read_crops
from semisup.data.datasets import AudioDataset
from semisup.metrics import evaluate
from semisup.paths import atomic_write
from semisup.progress import progress_bar

__all__ = [
    "ProbeConfig",
    "PROBE_CONFIGS",
    "EMBEDDED_COUNTERPARTS",
    "probe_config",
    "probe_config_key",
    "MLPProbe",
    "weights_hash",
    "Embeddings",
    "TrackCrops",
    "file_fingerprints",
    "extract_embeddings",
    "train_probe",
    "predict",
    "probe_task",
    "append_results",
    "probe_run",
    "embed_split",
    "score_rows",
    "headline",
]

CACHE_VERSION = 2  # embedding cache layout (2: kept tracks and skipped files recorded)
PREFETCH_TRACKS = 4  # tracks decoded ahead per DataLoader worker


@dataclass
class ProbeConfig:
    """Probe head and its training (Sec. 4.3, Appendix 9.1 / Table 5).

    Table 5 gives one number per dataset under "Dropout / Weight decay" (0 for NSynth pitch,
    0.1 for most, 0.2 for the small datasets); we read it as the dropout rate (README,
    "Where we depart"). :func:`probe_config` picks a dataset's row.
    """

    hidden: tuple[int, ...] = (512,)  # Table 5 "512, n_classes"; () = linear ("n_classes" alone)
    dropout: float = 0.1  # after each hidden layer (MLP), on the input (linear probe)
    weight_decay: float = 0.0
    lr: float = 3e-4  # Sec. 4.3 (1e-4 for EmoMusic, REFERENCE "Probing protocol")
    batch_size: int = 64  # REFERENCE.md
    max_epochs: int = 200
    patience: int = 10  # early stopping on validation loss
    standardize: bool = True
    seed: int = 123


# Table 5 (Appendix 9.1), keyed "<loader kind>:<subset or label>" as the loaders record them
# in ``dataset.info`` ("<kind>" alone for one-task datasets). Comments quote Table 5's
# "Probe layers output dims | Dropout / Weight decay".
PROBE_CONFIGS: dict[str, ProbeConfig] = {
    "mtat:top50": ProbeConfig(),  # 512, 288 (sic) | 0.1
    "mtat:all": ProbeConfig(),  # N/A | N/A in Table 5: ours, as top50
    "jamendo:top50tags": ProbeConfig(),  # 512, 50 | 0.1
    "jamendo:moodtheme": ProbeConfig(),  # 512, 56 | 0.1
    "jamendo:genre": ProbeConfig(),  # 512, 87 | 0.1
    "jamendo:instrument": ProbeConfig(),  # 512, 40 | 0.1
    "nsynth:pitch": ProbeConfig(dropout=0.0),  # 512, 112 | 0
    "nsynth:family": ProbeConfig(),  # "Instr.": 512, 24 | 0.1
    "giantsteps": ProbeConfig(hidden=(), dropout=0.2),  # 24 | 0.2
    "gtzan": ProbeConfig(),  # 512, 10 | 0.1
    "vocalset:singer": ProbeConfig(hidden=(), dropout=0.2),  # 20 | 0.2
    "vocalset:technique": ProbeConfig(hidden=(), dropout=0.2),  # 17 | 0.2
    "medleydb": ProbeConfig(hidden=(), dropout=0.2),  # 20 | 0.2
    "emomusic": ProbeConfig(hidden=(), dropout=0.1, lr=1e-4),  # 2 (regression) | 0.1
}

# The embedded tasks' "task:label" -> the Table 5 row of the dataset each stands in for.
EMBEDDED_COUNTERPARTS: dict[str, str] = {
    "notes:pitch": "nsynth:pitch",
    "notes:family": "nsynth:family",
    "notes:instrument": "nsynth:family",
    "tags:tags": "mtat:top50",
    "key:key": "giantsteps",
    "style:style": "gtzan",
}


def probe_config_key(dataset) -> str | None:
    """Key of ``dataset`` in :data:`PROBE_CONFIGS`, from ``dataset.info`` (None without a kind).

    ``info["kind"]`` and its ``subset`` or ``label`` give ``"mtat:top50"``,
    ``"nsynth:pitch"``, ``"giantsteps"``; an embedded task maps to its counterpart
    (:data:`EMBEDDED_COUNTERPARTS`); a prepared dataset uses its source's kind
    (``info["source_kind"]``) and the source's subset/label, which it carries.
    """
    info = getattr(dataset, "info", None) or {}
    kind = info.get("source_kind") if info.get("kind") == "prepared" else info.get("kind")
    if kind is None:
        return None
    if kind == "embedded":
        task = f"{info.get('task')}:{info.get('label')}"
        return EMBEDDED_COUNTERPARTS.get(task, f"embedded:{task}")
    variant = info.get("subset") or info.get("label")
    return f"{kind}:{variant}" if variant else str(kind)


def probe_config(dataset) -> ProbeConfig:
    """Table 5's probe settings for ``dataset`` (a copy of its :data:`PROBE_CONFIGS` row).

    A dataset without a row (a user's own) gets ``ProbeConfig()`` and a ``UserWarning`` that
    names it and the default used.
    """
    key = probe_config_key(dataset)
    if key in PROBE_CONFIGS:
        return replace(PROBE_CONFIGS[key])
    default = ProbeConfig()
    warnings.warn(
        f"no Table 5 probe settings for dataset {getattr(dataset, 'name', dataset)!r} "
        f"(key {key!r}); using the default: hidden={default.hidden}, dropout={default.dropout}, "
        f"lr={default.lr}. Pass config=ProbeConfig(...) to choose", UserWarning, stacklevel=2)
    return default


class MLPProbe(nn.Module):
    """Table 5's probe head on standardised embeddings.

    MLP (``hidden`` non-empty): Standardise → [Linear → ReLU → Dropout] × len(hidden) → Linear.
    Linear (``hidden=()``): Standardise → Dropout → Linear, so a linear probe's dropout
    (Table 5: GiantSteps, VocalSet, MedleyDB, EmoMusic) acts on its input.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: tuple[int, ...] = (512,), dropout: float = 0.1):
        super().__init__()
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("std", torch.ones(in_dim))
        layers: list[nn.Module] = [] if hidden else [nn.Dropout(dropout)]
        width = in_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, out_dim))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Map embeddings ``[N, 512]`` to logits / predictions ``[N, out_dim]``."""
        return self.layers((x - self.mean) / self.std)


def weights_hash(module: nn.Module) -> str:
    """Short SHA-256 of a module's state dict: the cache key of its embeddings."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


@dataclass
class Embeddings:
    """Whole-track embeddings of a list of files, and the files left out (probing protocol).

    Attributes
    ----------
    embeddings : np.ndarray
        float32 ``[N_kept, D]``: per kept track, the mean of its crops' embeddings.
    kept : np.ndarray
        int64 ``[N_kept]``: positions of the kept tracks in the list of paths, so
        ``labels[kept]`` stays aligned with ``embeddings``.
    skipped : dict
        ``{path: reason}`` of the unreadable or empty files left out, in list order.
    """

    embeddings: np.ndarray
    kept: np.ndarray
    skipped: dict[str, str]


class TrackCrops(torch.utils.data.Dataset):
    """Tracks cut into evaluation crops, one item per track (decoded in DataLoader workers).

    Item ``i`` is ``(i, crops, reason)``: float32 ``[K, L]`` crops of ``paths[i]``
    (:func:`semisup.data.audio.read_crops`) and ``""``, or ``None`` and the reason an
    unreadable or empty file cannot be used. A missing file raises :class:`MissingAudioError`.
    """

    def __init__(self, paths: list, crop_samples: int, sample_rate: int, max_crops: int = 64):
        self.paths = [str(p) for p in paths]
        self.crop_samples, self.sample_rate, self.max_crops = crop_samples, sample_rate, max_crops

    def __len__(self) -> int:
        """Return the number of tracks."""
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[int, Tensor | None, str]:
        """Read track ``i`` (see the class docstring)."""
        try:
            return i, read_crops(self.paths[i], self.crop_samples, self.sample_rate, max_crops=self.max_crops), ""
        except MissingAudioError:
            raise
        except AudioFileError as error:
            return i, None, str(error)


def file_fingerprints(paths: list) -> list[tuple[str, int, int]]:
    """``(path, size in bytes, mtime in ns)`` of each file: the dataset part of the cache key.

    Raises
    ------
    MissingAudioError
        Naming the files that do not exist (before anything is decoded).
    """
    found, missing = [], []
    for path in map(str, paths):
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            missing.append(path)
            continue
        found.append((path, stat.st_size, stat.st_mtime_ns))
    if missing:
        raise MissingAudioError(
            f"{len(missing)} of {len(paths)} audio files not found, e.g. {missing[:3]}; check the "
            f"dataset folder, or drop them when loading (missing=drop, e.g. 'mtat:/data/MTAT?missing=drop')")
    return found


def _load_cache(path: Path) -> Embeddings | None:
    """Read a cache file written by :func:`_save_cache`; None (with a warning) if unreadable."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return Embeddings(f["embeddings"], f["kept"], dict(zip(f["skipped_paths"].tolist(),
                                                                   f["skip_reasons"].tolist(), strict=True)))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        warnings.warn(f"ignoring unreadable embedding cache file {path} ({error}); recomputing", UserWarning,
                      stacklevel=3)
        return None


def _save_cache(path: Path, result: Embeddings) -> None:
    def save(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object, so numpy does not append ".npz" to the name
            np.savez(f, embeddings=result.embeddings, kept=result.kept,
                     skipped_paths=np.array(list(result.skipped), dtype=str),
                     skip_reasons=np.array(list(result.skipped.values()), dtype=str))

    atomic_write(path, save)


@torch.no_grad()
def _encode_tracks(encoder: nn.Module, paths: list, sample_rate: int, crop_samples: int, max_crops: int,
                   batch_crops: int, corruption, workers: int, skip_bad: bool, progress: bool) -> Embeddings:
    """Decode tracks (in ``workers`` DataLoader processes) and average their crop embeddings."""
    device = next(encoder.parameters()).device
    loader = DataLoader(
        TrackCrops(paths, crop_samples, sample_rate, max_crops), batch_size=None, num_workers=workers,
        pin_memory=device.type == "cuda", prefetch_factor=PREFETCH_TRACKS if workers else None,
    )
    counts = torch.zeros(len(paths), dtype=torch.int64)  # crops per track, 0 = skipped
    sums: Tensor | None = None  # [N, D] on the CPU: the deterministic index_add_
    pending: list[Tensor] = []
    owners: list[Tensor] = []
    skipped: dict[str, str] = {}

    def flush():
        nonlocal sums
        h = encoder(torch.cat(pending)).float().cpu()  # [K_total, 1, L] -> [K_total, D]
        if sums is None:
            sums = torch.zeros(len(paths), h.shape[1])
        sums.index_add_(0, torch.cat(owners), h)
        pending.clear()
        owners.clear()

    was_training = encoder.training
    encoder.eval()
    try:
        # Tracks arrive in order whatever the number of workers, so the encoder sees the same
        # batches and the embeddings are identical for any ``workers``.
        for i, crops, reason in progress_bar(loader, total=len(paths), desc="embedding tracks", disable=not progress,
                                     leave=False):
            if crops is None:
                if not skip_bad:
                    raise AudioFileError(reason)
                skipped[str(paths[i])] = reason
                continue
            crops = crops[:, None]  # [K, 1, L]
            if corruption is not None:
                crops = corruption(crops)
            pending.append(crops.to(device, non_blocking=True))
            owners.append(torch.full((len(crops),), i))
            counts[i] = len(crops)
            if sum(len(c) for c in pending) >= batch_crops:
                flush()
        if pending:
            flush()
    finally:
        encoder.train(was_training)
    kept = torch.nonzero(counts).reshape(-1)
    if sums is None:  # every file was skipped
        return Embeddings(np.zeros((0, 0), np.float32), kept.numpy(), skipped)
    embeddings = (sums[kept] / counts[kept, None]).numpy().astype(np.float32)  # [N_kept, D]
    return Embeddings(embeddings, kept.numpy(), skipped)


def extract_embeddings(
    encoder: nn.Module,
    paths: list,
    *,
    sample_rate: int,
    crop_samples: int,
    max_crops: int = 64,
    batch_crops: int = 256,
    corruption: Callable[[Tensor], Tensor] | None = None,
    corruption_id: str = "",
    cache_dir: str | os.PathLike | None = None,
    workers: int | str = 0,
    skip_bad: bool = False,
    skipped: SkippedFiles | None = None,
    progress: bool = True,
) -> Embeddings:
    """Average frozen-encoder embeddings over each track's crops (probing protocol, Sec. 5.2).

    The one extraction path of the project: probes, ``python -m semisup.evaluate`` and
    ``python -m semisup.embed`` all call it.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``[K, 1, L]`` crops to ``[K, D]``; used in eval mode, on its own device (CUDA:
        crops go through pinned memory).
    paths : list of path-like
        Audio files, one embedding each.
    sample_rate, crop_samples : int
        The encoder's input rate (Hz) and crop length ``L`` (samples).
    max_crops : int
        At most this many non-overlapping crops per track, from its start (64 in the paper).
    batch_crops : int
        Crops per forward pass, gathered across consecutive tracks (memory knob only).
    corruption : callable, optional
        Applied to each track's crops ``[K, 1, L]`` before encoding (Sec. 5.3 robustness).
    corruption_id : str
        Names the corruption in the cache key (required with ``corruption`` and a cache).
    cache_dir : path-like, optional
        Where ``<key>.npz`` files are kept. The key hashes the weights, the device type (CPU
        and CUDA kernels differ in the last bits), each file's path, size and mtime (a file
        rewritten or touched gives a new key), ``sample_rate``, ``crop_samples``,
        ``max_crops`` and ``corruption_id``. A file holds ``embeddings``, ``kept`` and the
        skipped files with their reasons; it is written atomically once the whole list is
        done.
    workers : int or "auto"
        DataLoader processes decoding tracks while the encoder runs; 0 decodes in this
        process, one track after the other. ``"auto"``: as training's loader
        (:func:`semisup.train.loader_workers`). The result does not depend on it.
    skip_bad : bool
        Leave out unreadable or empty files (MTAT's three zero-byte MP3s), recording them in
        ``skipped`` (a warning per file); otherwise the first one raises
        :class:`AudioFileError`. Missing files always raise, before any decoding.
    skipped : SkippedFiles, optional
        Log of the files left out (a fresh one when None).
    progress : bool
        Show a progress bar over tracks.

    Returns
    -------
    Embeddings
        ``embeddings`` float32 ``[N_kept, D]``, ``kept`` int64 ``[N_kept]``, ``skipped``.
    """
    if corruption is not None and cache_dir is not None and not corruption_id:
        raise ValueError("corruption_id must name the corruption when a cache_dir is used")
    device = next(encoder.parameters()).device
    if workers == "auto":
        from semisup.train import loader_workers

        workers = loader_workers("auto", device)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers must be an int >= 0 or 'auto', got {workers!r}")
    fingerprints = file_fingerprints(paths)  # missing files fail here
    cache_path, result = None, None
    if cache_dir is not None:
        key = hashlib.sha256(
            repr((CACHE_VERSION, weights_hash(encoder), device.type, fingerprints, sample_rate, crop_samples,
                  max_crops, corruption_id)).encode()
        ).hexdigest()[:24]
        cache_path = Path(cache_dir) / f"{key}.npz"
        if cache_path.exists():
            result = _load_cache(cache_path)
    if result is None:
        result = _encode_tracks(encoder, paths, sample_rate, crop_samples, max_crops, batch_crops, corruption,
                                workers, skip_bad, progress)
        if cache_path is not None:
            _save_cache(cache_path, result)
    log = skipped if skipped is not None else SkippedFiles()
    for path, reason in result.skipped.items():  # also when read from the cache
        if not skip_bad:
            raise AudioFileError(reason)
        log.add(path, AudioFileError(reason))
    return result


def embed_split(encoder: nn.Module, dataset, split: str, cache_dir=None, **options) -> np.ndarray:
    """Embeddings ``[N, D]`` of one split of a dataset with an encoder's own input format.

    A thin wrapper of :func:`extract_embeddings` (same ``options``); a bad file raises, so
    the rows match ``dataset.subset(split)``.
    """
    return extract_embeddings(
        encoder, dataset.subset(split).paths, sample_rate=encoder.sample_rate,
        crop_samples=encoder.crop_samples, cache_dir=cache_dir, **options,
    ).embeddings


def _loss_fn(task_type: str) -> nn.Module:
    losses = {"multilabel": nn.BCEWithLogitsLoss(), "multiclass": nn.CrossEntropyLoss(), "regression": nn.MSELoss()}
    if task_type not in losses:
        raise ValueError(f"cannot probe task_type {task_type!r}; expected one of {sorted(losses)}")
    return losses[task_type]


def _targets(y: np.ndarray, task_type: str) -> Tensor:
    return torch.as_tensor(y, dtype=torch.long if task_type == "multiclass" else torch.float32)


def train_probe(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    task_type: str,
    n_outputs: int,
    config: ProbeConfig | None = None,
) -> tuple[MLPProbe, pd.DataFrame]:
    """Train an MLP probe with early stopping on validation loss (Sec. 4.3).

    Parameters
    ----------
    x_train, x_valid : array [N, D]
        Frozen embeddings.
    y_train, y_valid : array
        Targets: int ``[N]`` (multiclass), 0/1 ``[N, C]`` (multilabel), float ``[N, K]``.
    task_type : str
        "multiclass", "multilabel" or "regression" (picks CE, BCE or MSE).
    n_outputs : int
        Number of classes / tags / regression targets.
    config : ProbeConfig
        Head and optimiser settings.

    Returns
    -------
    (MLPProbe, pandas.DataFrame)
        The probe with its best-validation weights restored, and the per-epoch history
        (``epoch, train_loss, valid_loss``).
    """
    config = config or ProbeConfig()
    loss_fn = _loss_fn(task_type)
    if len(x_train) == 0 or len(x_valid) == 0:
        raise ValueError(f"probe needs non-empty train and valid splits, got {len(x_train)} and {len(x_valid)}")
    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)  # layer initialisation
    xt, yt = torch.as_tensor(x_train, dtype=torch.float32), _targets(y_train, task_type)
    xv, yv = torch.as_tensor(x_valid, dtype=torch.float32), _targets(y_valid, task_type)
    probe = MLPProbe(xt.shape[1], n_outputs, tuple(config.hidden), config.dropout)
    if config.standardize:
        probe.mean.copy_(xt.mean(0))
        probe.std.copy_(xt.std(0).clamp_min(1e-6))
    optimizer = torch.optim.Adam(probe.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    best_loss, best_state, stale, history = float("inf"), None, 0, []
    for epoch in range(config.max_epochs):
        probe.train()
        order = torch.randperm(len(xt), generator=generator)
        total = 0.0
        for start in range(0, len(xt), config.batch_size):
            batch = order[start:start + config.batch_size]
            loss = loss_fn(probe(xt[batch]), yt[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        probe.eval()
        with torch.no_grad():
            valid_loss = loss_fn(probe(xv), yv).item()
        history.append({"epoch": epoch, "train_loss": total / len(xt), "valid_loss": valid_loss})
        if valid_loss < best_loss - 1e-6:
            best_loss, best_state, stale = valid_loss, copy.deepcopy(probe.state_dict()), 0
        else:
            stale += 1
            if stale >= config.patience:
                break
    probe.load_state_dict(best_state)
    probe.eval()
    return probe, pd.DataFrame(history)


@torch.no_grad()
def predict(probe: MLPProbe, x: np.ndarray) -> np.ndarray:
    """Probe outputs (logits or regression values) ``[N, out_dim]`` for embeddings ``[N, D]``."""
    probe.eval()
    return probe(torch.as_tensor(x, dtype=torch.float32)).numpy()


@dataclass
class ProbeResult:
    """Scores of one probe, plus what is needed to re-score it under corruptions."""

    task: str
    scores: dict[str, float]
    probe: MLPProbe
    history: pd.DataFrame
    extra: dict = field(default_factory=dict)


def probe_task(
    encoder: nn.Module,
    dataset,
    *,
    sample_rate: int,
    crop_samples: int,
    config: ProbeConfig | None = None,
    cache_dir: str | os.PathLike | None = None,
    max_crops: int = 64,
    corruptions: dict[str, Callable[[Tensor], Tensor]] | None = None,
    workers: int | str = 0,
    skip_bad: bool = True,
    skipped: SkippedFiles | None = None,
    progress: bool = True,
) -> ProbeResult:
    """Extract embeddings, train a probe on train/valid, score it on test (Sec. 5.2).

    Parameters
    ----------
    encoder : nn.Module
        Frozen encoder ``[K, 1, L] -> [K, 512]``.
    dataset : semisup.data.datasets.AudioDataset
        With ``train``, ``valid`` and ``test`` splits and labels.
    sample_rate, crop_samples : int
        Encoder input rate and crop length.
    config : ProbeConfig, optional
        Defaults to the dataset's Table 5 row, :func:`probe_config`.
    cache_dir : path-like, optional
        Embedding cache.
    max_crops : int
        Crops per track at extraction.
    corruptions : dict, optional
        ``{name: fn}``; the same probe is also scored on test embeddings of corrupted audio,
        the scores landing under ``"<name>/<metric>"`` (Sec. 5.3, Appendix 9.4).
    workers : int or "auto"
        DataLoader processes decoding audio (see :func:`extract_embeddings`).
    skip_bad : bool
        Leave out unreadable or empty files (counted in ``n_skipped_<split>``) instead of
        raising.
    skipped : SkippedFiles, optional
        Log of the files left out (each is warned about once).
    progress : bool
        Show progress bars.
    """
    if dataset.labels is None or dataset.task_type not in ("multiclass", "multilabel", "regression"):
        raise ValueError(f"dataset {dataset.name!r} has no labels to probe (task_type {dataset.task_type!r})")
    config = config or probe_config(dataset)
    splits = {s: dataset.subset(s) for s in ("train", "valid", "test")}
    empty = [s for s, d in splits.items() if len(d) == 0]
    if empty:
        raise ValueError(f"dataset {dataset.name!r} has empty split(s) {empty}; probes need train/valid/test")

    skipped = skipped if skipped is not None else SkippedFiles()

    def embed(split, corruption=None, corruption_id=""):
        return extract_embeddings(
            encoder, splits[split].paths, sample_rate=sample_rate, crop_samples=crop_samples,
            max_crops=max_crops, cache_dir=cache_dir, corruption=corruption,
            corruption_id=corruption_id, workers=workers, skip_bad=skip_bad, skipped=skipped, progress=progress,
        )

    found = {s: embed(s) for s in splits}
    for split, result in found.items():
        if len(result.kept) == 0:
            raise ValueError(f"dataset {dataset.name!r}: none of the {len(splits[split])} {split} files could be "
                             f"read, e.g. {next(iter(result.skipped.values()))}")
    x = {s: result.embeddings for s, result in found.items()}
    y = {s: splits[s].labels[result.kept] for s, result in found.items()}
    n_outputs = len(dataset.classes) if dataset.task_type != "regression" else dataset.labels.reshape(len(dataset), -1).shape[1]
    probe, history = train_probe(x["train"], y["train"], x["valid"], y["valid"], dataset.task_type, n_outputs, config)
    is_key = probe_key(dataset).endswith(":key") or "giantsteps" in dataset.name

    def score(result):
        return evaluate(dataset.task_type, splits["test"].labels[result.kept], predict(probe, result.embeddings),
                        dataset.classes, key=is_key)

    scores = score(found["test"])
    for name, fn in (corruptions or {}).items():
        cache_id = f"{name}|{getattr(fn, 'cache_id', '')}"  # settings of the corruption, when known
        scores.update({f"{name}/{k}": v for k, v in score(embed("test", fn, cache_id)).items()})
    scores.update({f"n_skipped_{s}": len(result.skipped) for s, result in found.items()})
    return ProbeResult(dataset.name, scores, probe, history, {"config": asdict(config)})


def probe_key(dataset) -> str:
    """``"task:label"`` of an embedded dataset (``"notes:pitch"``), else its name."""
    info = getattr(dataset, "info", None) or {}
    if info.get("kind") == "embedded" and info.get("label"):
        return f"{info['task']}:{info['label']}"
    return dataset.name


def _task_name(task: str) -> str:
    """Short name of a task: a spec's slug, else the text itself."""
    from semisup.data.spec import DatasetSpec

    try:
        return DatasetSpec.parse(task).slug
    except (ValueError, TypeError):
        return str(task)


def append_results(csv_path: str | os.PathLike, rows: list[dict]) -> pd.DataFrame:
    """Append tidy result rows to a CSV atomically (read, concatenate, write temp, rename)."""
    csv_path = Path(csv_path)
    new = pd.DataFrame(rows)
    table = pd.concat([pd.read_csv(csv_path), new], ignore_index=True) if csv_path.exists() else new
    atomic_write(csv_path, lambda tmp: table.to_csv(tmp, index=False))
    return table


def probe_run(
    run: str | os.PathLike | nn.Module,
    tasks: list,
    *,
    seed: int = 123,
    results_csv: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    corruptions: dict[str, Callable[[Tensor], Tensor]] | None = None,
    max_epochs: int | None = None,
    max_crops: int = 64,
    device: str = "cpu",
    workers: int | str = 0,
    skipped: SkippedFiles | None = None,
    run_name: str | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Probe a frozen encoder on labeled datasets; return tidy rows (Sec. 5.2).

    Parameters
    ----------
    run : path-like or nn.Module
        A run directory of :mod:`semisup.train` (its encoder is loaded on ``device``), or an
        encoder with ``sample_rate`` and ``crop_samples`` (e.g. a random initialisation,
        :func:`semisup.encoders.random_encoder`), used where it is.
    tasks : list of str or AudioDataset
        Dataset specs (:mod:`semisup.data.spec`), e.g.
        ``["embedded:data/small?task=notes&label=pitch", "mtat:/data/MTAT?subset=top50"]``,
        or datasets loaded from specs; each must have train, valid and test splits. The spec
        string is the ``task`` column.
    seed : int
        Probe initialisation and batch order.
    results_csv : path-like, optional
        Append the rows there (atomically).
    cache_dir : path-like, optional
        Embedding cache (default: ``<run>/embeddings`` for a run directory, none for an
        encoder).
    corruptions : dict, optional
        Extra test-time corruptions, see :func:`probe_task`.
    max_epochs : int, optional
        Cap on probe epochs (smoke runs); default from the task's :class:`ProbeConfig`.
    max_crops : int
        Crops per track at extraction.
    device : str
        Where a run's encoder is loaded.
    workers : int or "auto"
        DataLoader processes decoding audio (see :func:`extract_embeddings`).
    skipped : SkippedFiles, optional
        Collects the unreadable files left out (they are also counted in the rows).
    run_name : str, optional
        The ``run`` column (default: the run directory's name, or ``"encoder"``).
    progress : bool
        Show progress bars.

    Returns
    -------
    pandas.DataFrame
        Columns ``run, checkpoint, task, metric, value, seed``.
    """
    from semisup.data.spec import DatasetSpec
    from semisup.train import load_encoder

    if isinstance(run, nn.Module):
        encoder, run_name, run_cache = run, run_name or "encoder", None
    else:
        encoder, run_name, run_cache = load_encoder(run, device), run_name or Path(run).name, Path(run) / "embeddings"
    checkpoint = weights_hash(encoder)
    rows = []
    for task in progress_bar(tasks, desc="probing tasks", disable=not progress):
        dataset = task if isinstance(task, AudioDataset) else DatasetSpec.parse(task).load()
        task = str(task) if isinstance(task, str) else dataset.info.get("spec", dataset.name)
        config = replace(probe_config(dataset), seed=seed)
        if max_epochs is not None:
            config = replace(config, max_epochs=max_epochs)
        result = probe_task(
            encoder, dataset, sample_rate=encoder.sample_rate, crop_samples=encoder.crop_samples,
            config=config, cache_dir=cache_dir or run_cache, max_crops=max_crops,
            corruptions=corruptions, workers=workers, skipped=skipped, progress=progress,
        )
        rows += [
            {"run": run_name, "checkpoint": checkpoint, "task": task,
             "metric": metric, "value": value, "seed": seed}
            for metric, value in result.scores.items()
        ]
    table = pd.DataFrame(rows)
    if results_csv is not None:
        append_results(results_csv, rows)
    scores = ", ".join(f"{_task_name(r.task)} {r.metric} {r.value:.3f}" for r in headline(table).itertuples())
    print(f"probes of {run_name}: {scores or 'no tasks'}")
    return table


HEADLINE_METRICS = ("weighted", "auroc", "accuracy", "r2")  # first present wins, per task


def score_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Keep the rows that are clean scores.

    Counts (``n_classes_scored``, ``n_skipped_<split>``: metrics starting with ``n_``) and
    corrupted evaluations (``"<corruption>/<metric>"``) are dropped.
    """
    metric = table["metric"].astype(str)
    return table[~metric.str.contains("/", regex=False) & ~metric.str.startswith("n_")]


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """Keep each task's main metric (key: weighted score, tags: ROC-AUC, else accuracy).

    Only clean scores are considered (:func:`score_rows`).
    """
    clean = score_rows(table)
    keep = []
    for _task, rows in clean.groupby("task", sort=False):
        metric = next(m for m in (*HEADLINE_METRICS, rows["metric"].iloc[0]) if (rows["metric"] == m).any())
        keep.append(rows[rows["metric"] == metric])
    return pd.concat(keep) if keep else clean.iloc[:0]
