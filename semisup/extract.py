"""Frozen-encoder embeddings of whole tracks, extracted once and cached (Sec. 4.3, Sec. 5.2).

Two products, both from the same DataLoader-fed extraction loop:

- :func:`extract_embeddings`: per track, the **mean** embedding of up to 64 non-overlapping
  crops from its start — the paper's test-time embedding (and, in the ``"averaged"`` probe
  protocol, the train/valid one too); ``python -m semisup.embed`` writes these.
- :func:`extract_crop_embeddings`: per track, the embeddings of a **pool** of overlapping
  crops spread over the whole track (:func:`semisup.data.audio.crop_starts`: one every
  ``L / 4`` while fewer than 64, else 64 evenly spread), from which the ``"crops"`` probe
  protocol draws one random crop per track and epoch (docs/departures.md, "Probes").

Conventions
-----------
- Each result is cached as ``<cache_dir>/<key>.npz``, the key a hash of everything that
  changes the numbers: the encoder's weights, the device type (CPU and CUDA kernels differ in
  the last bits), each file's path, size and mtime, ``sample_rate``, ``crop_samples``,
  ``max_crops``, the corruption, and for a pool ``hop_samples`` and the pool format. Means and
  pools have disjoint keys, so a cache written before pools existed is still read, correctly,
  as means (it was computed exactly as now), and never as a pool.
- Files are written atomically once the whole list is done.
- Tracks are decoded in DataLoader workers while the encoder runs; they arrive in order, so
  the encoder sees the same batches and the result does not depend on the number of workers.
- Unreadable or empty files are left out and recorded (``skipped``), also when read back
  from the cache; missing files are an error naming them, before any decoding.
- Pools are stored as float16 (the probe standardises its inputs; float16's 3 significant
  digits are far below crop-to-crop differences), float32 if a value would overflow float16:
  64 crops × 512 × 2 bytes = 64 KiB per track at most, 0.66 GB per 10 000 long tracks.
"""

from __future__ import annotations

import hashlib
import os
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from semisup.data.audio import (
    AudioFileError,
    MissingAudioError,
    SkippedFiles,
    read_crop_pool,
    read_crops,
)
from semisup.paths import atomic_write
from semisup.progress import progress_bar

__all__ = [
    "weights_hash",
    "Embeddings",
    "CropEmbeddings",
    "TrackCrops",
    "file_fingerprints",
    "extract_embeddings",
    "extract_crop_embeddings",
    "embed_split",
    "POOL_HOP_DIVISOR",
]

CACHE_VERSION = 2  # track-mean cache layout (2: kept tracks and skipped files recorded)
POOL_FORMAT = "crop-pool-1"  # crop-pool cache layout, part of its key
POOL_HOP_DIVISOR = 4  # pool offsets at most L / 4 apart: a 4 s note offers 3 crops of 2.7 s
PREFETCH_TRACKS = 4  # tracks decoded ahead per DataLoader worker
FLOAT16_MAX = 6.0e4  # below float16's largest finite value, 65 504


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


@dataclass
class CropEmbeddings:
    """Per-crop embeddings of each track's crop pool (:func:`extract_crop_embeddings`).

    Attributes
    ----------
    crops : np.ndarray
        float16 (or float32) ``[K_total, D]``: the crops of kept track ``j`` are
        ``crops[offsets[j]:offsets[j + 1]]``, in time order.
    offsets : np.ndarray
        int64 ``[N_kept + 1]``, ``offsets[0] = 0``, ``offsets[-1] = K_total``.
    kept, skipped
        As in :class:`Embeddings`.
    """

    crops: np.ndarray
    offsets: np.ndarray
    kept: np.ndarray
    skipped: dict[str, str]


class TrackCrops(torch.utils.data.Dataset):
    """Tracks cut into crops, one item per track (decoded in DataLoader workers).

    Item ``i`` is ``(i, crops, reason)``: float32 ``[K, L]`` crops of ``paths[i]`` and ``""``,
    or ``None`` and the reason an unreadable or empty file cannot be used. The crops are
    :func:`~semisup.data.audio.read_crops` (non-overlapping, from the start) without
    ``hop_samples``, else :func:`~semisup.data.audio.read_crop_pool`. A missing file raises
    :class:`MissingAudioError`.
    """

    def __init__(self, paths: list, crop_samples: int, sample_rate: int, max_crops: int = 64,
                 hop_samples: int | None = None):
        self.paths = [str(p) for p in paths]
        self.crop_samples, self.sample_rate, self.max_crops = crop_samples, sample_rate, max_crops
        self.hop_samples = hop_samples

    def __len__(self) -> int:
        """Return the number of tracks."""
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[int, Tensor | None, str]:
        """Read track ``i`` (see the class docstring)."""
        try:
            if self.hop_samples is None:
                crops = read_crops(self.paths[i], self.crop_samples, self.sample_rate, max_crops=self.max_crops)
            else:
                crops = read_crop_pool(self.paths[i], self.crop_samples, self.sample_rate,
                                       hop_samples=self.hop_samples, max_crops=self.max_crops)
            return i, crops, ""
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


def _load_cache(path: Path) -> Embeddings | CropEmbeddings | None:
    """Read a cache file written by :func:`_save_cache`; None (with a warning) if unreadable."""
    try:
        with np.load(path, allow_pickle=False) as f:
            skipped = dict(zip(f["skipped_paths"].tolist(), f["skip_reasons"].tolist(), strict=True))
            if "crops" in f:
                return CropEmbeddings(f["crops"], f["offsets"], f["kept"], skipped)
            return Embeddings(f["embeddings"], f["kept"], skipped)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        warnings.warn(f"ignoring unreadable embedding cache file {path} ({error}); recomputing", UserWarning,
                      stacklevel=3)
        return None


def _save_cache(path: Path, result: Embeddings | CropEmbeddings) -> None:
    arrays = ({"crops": result.crops, "offsets": result.offsets} if isinstance(result, CropEmbeddings)
              else {"embeddings": result.embeddings})

    def save(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object, so numpy does not append ".npz" to the name
            np.savez(f, **arrays, kept=result.kept, skipped_paths=np.array(list(result.skipped), dtype=str),
                     skip_reasons=np.array(list(result.skipped.values()), dtype=str))

    atomic_write(path, save)


@torch.no_grad()
def _encode_tracks(encoder: nn.Module, tracks: TrackCrops, batch_crops: int, corruption, workers: int,
                   skip_bad: bool, progress: bool, average: bool) -> Embeddings | CropEmbeddings:
    """Decode ``tracks`` (in ``workers`` DataLoader processes) and encode their crops.

    ``average``: return each track's mean crop embedding (summed on the fly, so memory stays
    ``[N, D]``); else every crop's embedding.
    """
    device = next(encoder.parameters()).device
    loader = DataLoader(tracks, batch_size=None, num_workers=workers, pin_memory=device.type == "cuda",
                        prefetch_factor=PREFETCH_TRACKS if workers else None)
    n_tracks = len(tracks)
    counts = torch.zeros(n_tracks, dtype=torch.int64)  # crops per track, 0 = skipped
    sums: Tensor | None = None  # [N, D] on the CPU: the deterministic index_add_ (average)
    encoded: list[Tensor] = []  # [K_batch, D] chunks in track order (pool)
    pending: list[Tensor] = []
    owners: list[Tensor] = []
    skipped: dict[str, str] = {}

    def flush():
        nonlocal sums
        h = encoder(torch.cat(pending)).float().cpu()  # [K_total, 1, L] -> [K_total, D]
        if average:
            if sums is None:
                sums = torch.zeros(n_tracks, h.shape[1])
            sums.index_add_(0, torch.cat(owners), h)
        else:
            encoded.append(h)
        pending.clear()
        owners.clear()

    was_training = encoder.training
    encoder.eval()
    try:
        # Tracks arrive in order whatever the number of workers, so the encoder sees the same
        # batches and the embeddings are identical for any ``workers``.
        for i, crops, reason in progress_bar(loader, total=n_tracks, desc="embedding tracks", disable=not progress,
                                             leave=False):
            if crops is None:
                if not skip_bad:
                    raise AudioFileError(reason)
                skipped[tracks.paths[i]] = reason
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
    if average:
        if sums is None:  # every file was skipped
            return Embeddings(np.zeros((0, 0), np.float32), kept.numpy(), skipped)
        embeddings = (sums[kept] / counts[kept, None]).numpy().astype(np.float32)  # [N_kept, D]
        return Embeddings(embeddings, kept.numpy(), skipped)
    crops = torch.cat(encoded).numpy() if encoded else np.zeros((0, 0), np.float32)  # [K_total, D]
    if np.isfinite(crops).all() and np.abs(crops).max(initial=0.0) < FLOAT16_MAX:
        crops = crops.astype(np.float16)
    offsets = np.concatenate([[0], np.cumsum(counts[kept].numpy())]).astype(np.int64)  # [N_kept + 1]
    return CropEmbeddings(crops, offsets, kept.numpy(), skipped)


def _extract(encoder, paths, tracks: TrackCrops, key_parts: tuple, *, average: bool, batch_crops: int,
             corruption, corruption_id: str, cache_dir, workers, skip_bad: bool, skipped: SkippedFiles | None,
             progress: bool):
    """Shared body of :func:`extract_embeddings` and :func:`extract_crop_embeddings`."""
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
        # The key of a track-mean file is exactly the one written before pools existed.
        key = hashlib.sha256(repr((*key_parts[:1], weights_hash(encoder), device.type, fingerprints,
                                   *key_parts[1:], corruption_id)).encode()).hexdigest()[:24]
        cache_path = Path(cache_dir) / f"{key}.npz"
        if cache_path.exists():
            result = _load_cache(cache_path)
    if result is None:
        result = _encode_tracks(encoder, tracks, batch_crops, corruption, workers, skip_bad, progress, average)
        if cache_path is not None:
            _save_cache(cache_path, result)
    log = skipped if skipped is not None else SkippedFiles()
    for path, reason in result.skipped.items():  # also when read from the cache
        if not skip_bad:
            raise AudioFileError(reason)
        log.add(path, AudioFileError(reason))
    return result


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
    """Average frozen-encoder embeddings over each track's crops (test embedding, Sec. 5.2).

    Probes (their test split; every split in the ``"averaged"`` protocol),
    ``python -m semisup.evaluate`` and ``python -m semisup.embed`` all call it.

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
        Where ``<key>.npz`` files are kept (see the module's conventions). A file holds
        ``embeddings``, ``kept`` and the skipped files with their reasons.
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
    tracks = TrackCrops(paths, crop_samples, sample_rate, max_crops)
    return _extract(encoder, paths, tracks, (CACHE_VERSION, sample_rate, crop_samples, max_crops), average=True,
                    batch_crops=batch_crops, corruption=corruption, corruption_id=corruption_id,
                    cache_dir=cache_dir, workers=workers, skip_bad=skip_bad, skipped=skipped, progress=progress)


def extract_crop_embeddings(
    encoder: nn.Module,
    paths: list,
    *,
    sample_rate: int,
    crop_samples: int,
    hop_samples: int | None = None,
    max_crops: int = 64,
    batch_crops: int = 256,
    cache_dir: str | os.PathLike | None = None,
    workers: int | str = 0,
    skip_bad: bool = False,
    skipped: SkippedFiles | None = None,
    progress: bool = True,
) -> CropEmbeddings:
    """Embed each track's crop pool once, for probes that draw a random crop per epoch.

    The authors train and validate a probe on one 2.7 s crop per track and epoch at a random
    offset. Encoding a fresh crop every epoch would re-run the encoder 20–200 times; instead
    each track's pool (:func:`semisup.data.audio.crop_starts`) is embedded once and the probe
    draws from it. With ``hop_samples = L / 4`` a random offset is matched within ``L / 8``
    (crops overlap by ≥ 75 %): a 4 s NSynth note offers 3 crops of 2.7 s (offsets 0, 0.65,
    1.3 s), a 29 s MTAT clip 40; a longer track gets 64 crops spread evenly over all of it,
    so the cache is bounded by ``max_crops`` crops per track whatever its length.

    Parameters
    ----------
    hop_samples : int, optional
        Largest spacing of the pool's offsets (default ``crop_samples // 4``).
    max_crops : int
        Crops per track at most (64, as the test embedding's bound).
    encoder, paths, sample_rate, crop_samples, batch_crops, cache_dir, workers, skip_bad, skipped, progress
        As in :func:`extract_embeddings`.

    Returns
    -------
    CropEmbeddings
        ``crops [K_total, D]``, ``offsets [N_kept + 1]``, ``kept``, ``skipped``.
    """
    hop_samples = hop_samples or max(1, crop_samples // POOL_HOP_DIVISOR)
    tracks = TrackCrops(paths, crop_samples, sample_rate, max_crops, hop_samples=hop_samples)
    return _extract(encoder, paths, tracks, (POOL_FORMAT, sample_rate, crop_samples, max_crops, hop_samples),
                    average=False, batch_crops=batch_crops, corruption=None, corruption_id="", cache_dir=cache_dir,
                    workers=workers, skip_bad=skip_bad, skipped=skipped, progress=progress)


def embed_split(encoder: nn.Module, dataset, split: str, cache_dir=None, **options) -> np.ndarray:
    """Embeddings ``[N, D]`` of one split of a dataset with an encoder's own input format.

    A thin wrapper of :func:`extract_embeddings` (same ``options``); a bad file raises, so
    the rows match ``dataset.subset(split)``.
    """
    return extract_embeddings(
        encoder, dataset.subset(split).paths, sample_rate=encoder.sample_rate,
        crop_samples=encoder.crop_samples, cache_dir=cache_dir, **options,
    ).embeddings
