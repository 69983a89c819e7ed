"""The semi-supervised batch sampler of Sec. 3.3: ``b_s`` labeled clips per batch, ``p_s`` of the labels.

:class:`SemiSupervisedSampler` is a ``torch.utils.data.IterableDataset`` that yields whole
batches (use ``DataLoader(sampler, batch_size=None, num_workers=...)``). Each clip is one
contiguous read of ``V * L`` samples cut into ``V`` adjacent, non-overlapping crops
(REFERENCE "Batches"); a file shorter than ``V * L`` gives ``V`` crops at random offsets
that may overlap (:func:`semisup.data.audio.read_views`). Augmentation happens later, on
``[B, 1, L]`` batches.

Conventions
-----------
- A batch is a dict: ``"audio"`` float32 ``[B, V, L]``; ``"labels"`` int64 ``[B]`` (``-1`` =
  unlabeled) for multiclass data or float32 ``[B, C]`` multi-hot (all-zero row = unlabeled)
  for multilabel data, the format of ``semisup.loss.contrastive_target``; ``"labeled"`` bool
  ``[B]``; ``"source"`` int64 ``[B]`` (0 = labeled set, 1 = unlabeled set, 2 = labeled clip
  dropped by ``p_s`` and used as unlabeled); ``"index"`` int64 ``[B]`` (row in that source's
  dataset as passed in); ``"batch_index"`` (int ``k``); ``"n_skipped"`` (bad files replaced).
- Labeled clips come first: ``n_l = int(B * b_s)`` of them, then ``B - n_l`` unlabeled.
- ``p_s`` keeps ``int(N * p_s)`` clips of the labeled ``split`` (a seeded choice made once;
  applied once, where the authors' code applies it twice, giving ``p_s**2``). The rest is
  dropped, or joins the unlabeled pool with ``keep_dropped_as_unlabeled=True``.
- **Cycling.** Each source is an endless stream of reshuffled epochs: epoch ``e`` is a
  permutation seeded by ``(seed, source, e)``, so every clip is seen once per epoch and the
  two sources cycle independently (as the authors' two shuffled loaders). A batch that
  straddles an epoch boundary can hold one clip twice (different random crops).
- **Determinism.** Batch ``k`` of rank ``r`` is a pure function of ``(seed, r, k)`` (and
  ``world_size``): its clips are positions ``(k * W + r) * n ... + n - 1`` of each source's
  stream, and its crop offsets come from ``SeedSequence([seed, r, k])``. So resuming needs
  only ``{"next_batch": k}``; ranks draw disjoint slices whose union is the global batch;
  DataLoader worker ``w`` of ``N`` makes batches ``k = w, w + N, ...`` and the DataLoader's
  round-robin returns them in order ``k = 0, 1, 2 ...`` for any number of workers.
- Prefer ``num_workers >= 1``: workers run torch single-threaded. Iterated in the main
  process with several intra-op threads on a busy 2-core machine, one chunk's resampling
  was measured ~50x slower than single-threaded (thread contention, not work).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from semisup.data.audio import AudioFileError, SkippedFiles, read_views
from semisup.data.datasets import AudioDataset

__all__ = ["SemiSupervisedSampler"]

# Stream ids mixed into the seeds, so that permutations and crop offsets never share a stream.
_LABELED, _UNLABELED, _KEEP, _CROPS = 0, 1, 2, 3
# With skip_bad, give up after this many bad draws for one clip (>= 99% of files bad).
_MAX_REPLACEMENTS = 500


@dataclass
class _Source:
    """One endless stream of clips: its files, per-clip labels and provenance."""

    paths: list[str]
    labels: np.ndarray | None  # int64 [N] or float32 [N, C]; None for the unlabeled pool
    origin: np.ndarray  # int64 [N]: 0 labeled, 1 unlabeled, 2 dropped-labeled
    index: np.ndarray  # int64 [N]: row in the dataset it came from
    stream: int
    bad: set[int] = field(default_factory=set)  # rows found unreadable (skip_bad)

    def __len__(self) -> int:
        return len(self.paths)


def _check_fraction(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


class SemiSupervisedSampler(IterableDataset):
    """Batches of ``b_s`` labeled and ``1 - b_s`` unlabeled clips, ``V`` adjacent crops each.

    Parameters
    ----------
    labeled : AudioDataset or None
        Multiclass or multilabel dataset (regression targets cannot define positives).
    unlabeled : AudioDataset or None
        Pool for the self-supervised part; its labels, if any, are ignored.
    batch_size : int
        Clips per batch ``B`` on this rank (the global batch is ``world_size * B``).
    ps : float
        ``p_s``, share of the labeled ``split`` kept labeled (Sec. 3.3); 0 = self-supervised.
    bs : float
        ``b_s``, share of each batch that is labeled: ``int(B * b_s)`` clips; 0 =
        self-supervised, 1 = supervised (no unlabeled clip).
    n_views : int
        ``V`` crops per clip, cut from one contiguous read of ``V * L`` samples.
    crop_samples : int
        ``L``, samples per crop at ``sample_rate`` (2.7 s at 22 050 Hz = 59 535).
    sample_rate : int
        Output rate in Hz; files at other rates are resampled.
    seed : int
        Seeds the ``p_s`` choice, the epoch permutations and the crop offsets.
    rank, world_size : int
        This process's rank and the number of ranks; ranks draw disjoint slices.
    skip_bad : bool
        Replace a clip whose file is bad (missing, corrupt, empty, NaN) by another clip of
        the same source, drawn from the batch's generator, and count it (``n_skipped``, a
        warning per file); otherwise the error propagates.
    keep_dropped_as_unlabeled : bool
        Add the labeled clips that ``p_s`` drops to the unlabeled pool (their labels unused);
        with ``ps = 0`` or ``bs = 0`` the whole labeled split joins the pool.
    split : str
        Which split of both datasets to draw from.
    num_batches : int or None
        Stop after batch ``num_batches - 1``; None = endless (training counts steps).
    """

    def __init__(
        self,
        labeled: AudioDataset | None,
        unlabeled: AudioDataset | None,
        batch_size: int,
        ps: float = 1.0,
        bs: float = 0.5,
        n_views: int = 2,
        crop_samples: int = 59535,
        sample_rate: int = 22050,
        seed: int = 123,
        rank: int = 0,
        world_size: int = 1,
        skip_bad: bool = False,
        keep_dropped_as_unlabeled: bool = False,
        split: str = "train",
        num_batches: int | None = None,
    ):
        super().__init__()
        for name, value in (("labeled", labeled), ("unlabeled", unlabeled)):
            if value is not None and not isinstance(value, AudioDataset):
                raise TypeError(f"{name} must be an AudioDataset or None, got {type(value).__name__}")
        self.batch_size = _check_int("batch_size", batch_size, 1)
        self.ps = _check_fraction("ps", ps)
        self.bs = _check_fraction("bs", bs)
        self.n_views = _check_int("n_views", n_views, 1)
        self.crop_samples = _check_int("crop_samples", crop_samples, 1)
        self.sample_rate = _check_int("sample_rate", sample_rate, 1)
        self.seed = _check_int("seed", seed, 0)
        self.world_size = _check_int("world_size", world_size, 1)
        self.rank = _check_int("rank", rank, 0)
        if self.rank >= self.world_size:
            raise ValueError(f"rank must be < world_size = {self.world_size}, got {rank}")
        if num_batches is not None:
            num_batches = _check_int("num_batches", num_batches, 0)
        self.num_batches = num_batches
        self.skip_bad = bool(skip_bad)
        self.split = split
        self.next_batch = 0
        self.skipped = SkippedFiles()

        supervised = self.ps > 0 and self.bs > 0
        self.n_labeled = int(self.batch_size * self.bs) if supervised else 0
        self.n_unlabeled = self.batch_size - self.n_labeled
        if supervised and self.n_labeled == 0:
            raise ValueError(
                f"batch_size={batch_size} with bs={bs} gives int({batch_size} * {bs}) = 0 labeled "
                f"clips per batch; raise batch_size or bs (or use bs=0 for self-supervised)"
            )
        if self.bs == 1 and self.ps == 0:
            raise ValueError("bs=1 (supervised) needs labeled clips, but ps=0 keeps none")

        self.task_type, self.classes = "unlabeled", []
        kept = dropped = None
        if labeled is not None:
            if labeled.task_type not in ("multiclass", "multilabel"):
                raise ValueError(
                    f"labeled dataset {labeled.name!r} is {labeled.task_type}; contrastive "
                    f"positives need class labels (multiclass or multilabel), not "
                    f"{labeled.task_type} targets — pass it as unlabeled instead"
                )
            pool = np.flatnonzero(labeled.split == self._split_name(labeled))
            n_keep = int(len(pool) * self.ps)
            if supervised and n_keep == 0:
                raise ValueError(
                    f"ps={ps} keeps int({len(pool)} * {ps}) = 0 of the {len(pool)} labeled "
                    f"{split!r} clips of {labeled.name!r}; bs={bs} > 0 needs labeled clips "
                    f"(raise ps, or use bs=0 / ps=0 for self-supervised)"
                )
            # Chosen once, identical on every rank: one p_s draw, not two.
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, _KEEP]))
            chosen = np.zeros(len(pool), dtype=bool)
            chosen[rng.permutation(len(pool))[:n_keep]] = True
            kept, dropped = pool[chosen], pool[~chosen]
            self.task_type, self.classes = labeled.task_type, list(labeled.classes)
        elif supervised:
            raise ValueError(f"bs={bs} and ps={ps} ask for labeled clips but labeled is None; "
                             f"pass a labeled dataset or use bs=0 for self-supervised")

        self.labeled_source = None
        if self.n_labeled:
            self.labeled_source = _Source(
                paths=[os.fspath(labeled.paths[i]) for i in kept], labels=labeled.labels[kept],
                origin=np.zeros(len(kept), np.int64), index=kept.astype(np.int64),
                stream=_LABELED)
        self.unlabeled_source = None
        if self.n_unlabeled:
            parts = []
            if unlabeled is not None:
                rows = np.flatnonzero(unlabeled.split == self._split_name(unlabeled))
                parts.append(([os.fspath(unlabeled.paths[i]) for i in rows], 1, rows))
            if keep_dropped_as_unlabeled and labeled is not None:
                extra = dropped if supervised else np.concatenate([kept, dropped])
                parts.append(([os.fspath(labeled.paths[i]) for i in extra], 2, extra))
            n_pool = sum(len(p[0]) for p in parts)
            if n_pool == 0:
                raise ValueError(
                    f"{self.n_unlabeled} unlabeled clips per batch (bs={bs}, ps={ps}) but the "
                    f"unlabeled pool of split {split!r} is empty; pass an unlabeled dataset, set "
                    f"keep_dropped_as_unlabeled=True, or use bs=1 for supervised"
                )
            self.unlabeled_source = _Source(
                paths=[p for part in parts for p in part[0]], labels=None,
                origin=np.concatenate([np.full(len(part[0]), part[1], np.int64) for part in parts]),
                index=np.concatenate([np.asarray(part[2], np.int64) for part in parts]),
                stream=_UNLABELED)
        self._permutations: dict[tuple[int, int], np.ndarray] = {}

    def _split_name(self, dataset: AudioDataset) -> str:
        names = {"val": "valid", "validation": "valid"}
        name = names.get(self.split, self.split)
        if name not in ("train", "valid", "test"):
            raise ValueError(f"split must be 'train', 'valid' or 'test', got {self.split!r}")
        if not (dataset.split == name).any():
            raise ValueError(f"dataset {dataset.name!r} has no {name!r} clips "
                             f"(splits: {dataset.split_sizes()})")
        return name

    # ----------------------------------------------------------------------------- state

    def state_dict(self) -> dict:
        """``{"next_batch": k}``: the batch the next iteration starts with.

        Counted when the sampler is iterated in this process. With DataLoader workers the
        copies in the workers advance instead; take ``batch["batch_index"] + 1`` of the last
        batch consumed (or the training step) as ``next_batch``.
        """
        return {"next_batch": self.next_batch}

    def load_state_dict(self, state: dict) -> None:
        """Resume at ``state["next_batch"]``: the next iteration yields exactly that batch on."""
        if not isinstance(state, dict) or "next_batch" not in state:
            raise ValueError(f"state must be a dict with 'next_batch', got {state!r}")
        self.next_batch = _check_int("next_batch", state["next_batch"], 0)

    # ------------------------------------------------------------------------ batch k

    def _permutation(self, source: _Source, epoch: int) -> np.ndarray:
        key = (source.stream, epoch)
        if key not in self._permutations:
            if len(self._permutations) >= 8:  # a batch touches at most two epochs per source
                self._permutations.pop(next(iter(self._permutations)))
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, source.stream, epoch]))
            self._permutations[key] = rng.permutation(len(source))
        return self._permutations[key]

    def _positions(self, source: _Source, batch_index: int, n: int) -> np.ndarray:
        """Rows of ``source`` at stream positions ``(k * W + r) * n ... + n - 1``."""
        start = (batch_index * self.world_size + self.rank) * n
        positions = np.arange(start, start + n, dtype=np.int64)
        epochs, offsets = np.divmod(positions, len(source))
        return np.array([self._permutation(source, int(e))[o] for e, o in
                         zip(epochs, offsets, strict=True)], dtype=np.int64)

    def batch_labels(self, batch_index: int) -> np.ndarray | None:
        """Labels of the labeled clips of batch ``k`` (``[n_l]`` or ``[n_l, C]``), without reading audio.

        None when batches hold no labeled clip. (A bad file replaced under ``skip_bad`` can
        change a clip of the batch actually read.)
        """
        if self.labeled_source is None:
            return None
        rows = self._positions(self.labeled_source, _check_int("batch_index", batch_index, 0), self.n_labeled)
        return self.labeled_source.labels[rows]

    def _read(self, source: _Source, row: int, rng: np.random.Generator) -> tuple[torch.Tensor, int, int]:
        """Read one clip ``[V, L]``; with skip_bad, replace bad files. Returns (audio, row, skips)."""
        skips = 0
        while True:
            if row not in source.bad:
                try:
                    views = read_views(source.paths[row], self.n_views, self.crop_samples, self.sample_rate, rng=rng)
                    return views, row, skips
                except AudioFileError as error:
                    if not self.skip_bad:
                        raise AudioFileError(
                            f"{error}. To train anyway, skip and count bad files (skip_bad=True, "
                            f"`--skip-bad true`), or prepare the dataset once with "
                            f"`python -m semisup.data.prepare`, which leaves them out"
                        ) from error
                    source.bad.add(row)
                    self.skipped.add(source.paths[row], error)
            else:
                self.skipped.count += 1
            skips += 1
            if skips >= _MAX_REPLACEMENTS or len(source.bad) == len(source):
                raise RuntimeError(
                    f"skip_bad: {skips} bad files in a row drawn from a pool of {len(source)} clips "
                    f"({len(source.bad)} known bad); the data is mostly unreadable, e.g. "
                    f"{next(iter(self.skipped.reasons.values()))}"
                )
            row = int(rng.integers(len(source)))  # deterministic replacement draw

    def batch(self, batch_index: int) -> dict:
        """Build batch ``k = batch_index`` (a pure function of ``(seed, rank, k)``)."""
        k = _check_int("batch_index", batch_index, 0)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, _CROPS, self.rank, k]))
        audio, origin, index = [], [], []
        labels = []
        n_skipped = 0
        for source, n in ((self.labeled_source, self.n_labeled),
                          (self.unlabeled_source, self.n_unlabeled)):
            if not n:
                continue
            for row in self._positions(source, k, n):
                clip, row, skips = self._read(source, int(row), rng)
                n_skipped += skips
                audio.append(clip)
                origin.append(source.origin[row])
                index.append(source.index[row])
                if source.labels is not None:
                    labels.append(source.labels[row])
        b = self.batch_size
        out_labels = self._labels(labels)
        return {
            "audio": torch.stack(audio),  # [B, V, L]
            "labels": out_labels,
            "labeled": torch.arange(b) < self.n_labeled,  # [B]
            "source": torch.as_tensor(np.asarray(origin, np.int64)),  # [B]
            "index": torch.as_tensor(np.asarray(index, np.int64)),  # [B]
            "batch_index": k,
            "n_skipped": n_skipped,
        }

    def _labels(self, labeled_rows: list) -> torch.Tensor:
        """Per-clip labels ``[B]`` (int64, -1 = unlabeled) or ``[B, C]`` (zero rows = unlabeled)."""
        if self.task_type == "multilabel":
            out = torch.zeros(self.batch_size, len(self.classes), dtype=torch.float32)
            if labeled_rows:
                out[: len(labeled_rows)] = torch.as_tensor(np.stack(labeled_rows))
            return out
        out = torch.full((self.batch_size,), -1, dtype=torch.int64)
        if labeled_rows:
            out[: len(labeled_rows)] = torch.as_tensor(np.asarray(labeled_rows, np.int64))
        return out

    def __iter__(self):
        """Yield batches ``k = next_batch, ...``; worker ``w`` of ``N`` makes ``k ≡ w (mod N)``."""
        worker = get_worker_info()
        first = self.next_batch
        worker_id, n_workers = (0, 1) if worker is None else (worker.id, worker.num_workers)
        k = first + worker_id
        while self.num_batches is None or k < self.num_batches:
            batch = self.batch(k)
            if worker is None:
                self.next_batch = k + 1
            yield batch
            k += n_workers
        if self.skip_bad and self.skipped.count and worker is None:
            warnings.warn(self.skipped.summary(), UserWarning, stacklevel=2)

    def __len__(self) -> int:
        """Batches left when ``num_batches`` is set (an endless sampler has no length)."""
        if self.num_batches is None:
            raise TypeError("an endless SemiSupervisedSampler has no len(); pass num_batches")
        return max(0, self.num_batches - self.next_batch)

    def __repr__(self) -> str:
        """Summarise the batch composition."""
        n_l = 0 if self.labeled_source is None else len(self.labeled_source)
        n_u = 0 if self.unlabeled_source is None else len(self.unlabeled_source)
        return (f"SemiSupervisedSampler(B={self.batch_size}: {self.n_labeled} labeled from "
                f"{n_l} clips + {self.n_unlabeled} unlabeled from {n_u} clips, ps={self.ps}, "
                f"bs={self.bs}, V={self.n_views}, L={self.crop_samples} at {self.sample_rate} Hz, "
                f"seed={self.seed}, rank {self.rank}/{self.world_size}, "
                f"{math.inf if self.num_batches is None else self.num_batches} batches)")
