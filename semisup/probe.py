"""Frozen-encoder probes (Sec. 4.3, Sec. 5.2, Appendix 9.1 / Table 5).

The encoder is frozen and its projection head discarded. Each track is cut into
non-overlapping crops (up to 64), the crops' 512-d embeddings are averaged, and a small MLP
is trained on the averaged embeddings with Adam (lr 3e-4, batch 64) and early stopping on
the validation loss; the best-validation weights are restored before testing.

Conventions
-----------
- Embeddings are extracted once per (encoder weights, dataset, split, crop settings,
  corruption) and cached as ``.npz`` files keyed by a hash of all of these.
- Probe inputs are standardised with the training split's mean and std (part of the probe,
  so the same numbers apply at test time): the ReLU encoder outputs have very different
  scales across checkpoints, and Adam at a fixed lr needs comparable inputs.
- Losses by task type: BCE (multi-label), cross-entropy (multi-class), MSE (regression).
- Results are tidy rows ``checkpoint, task, metric, value, seed`` (plus context columns).
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from semisup.data.audio import read_crops
from semisup.metrics import evaluate
from semisup.paths import atomic_write
from semisup.progress import progress_bar

__all__ = [
    "ProbeConfig",
    "PROBE_CONFIGS",
    "MLPProbe",
    "weights_hash",
    "extract_embeddings",
    "train_probe",
    "predict",
    "probe_task",
    "append_results",
    "probe_run",
    "embed_split",
    "headline",
]


@dataclass
class ProbeConfig:
    """Probe head and its training (Sec. 4.3, Table 5).

    Table 5 gives one number per dataset under "Dropout / Weight decay" (0 for NSynth pitch,
    0.1 for most, 0.2 for the small datasets); we read it as the dropout rate.
    """

    hidden: tuple[int, ...] = (512,)  # Table 5: "512, n_classes"; () = linear probe
    dropout: float = 0.1
    weight_decay: float = 0.0
    lr: float = 3e-4  # Sec. 4.3 (1e-4 for EmoMusic)
    batch_size: int = 64  # REFERENCE.md
    max_epochs: int = 200
    patience: int = 10  # early stopping on validation loss
    standardize: bool = True
    seed: int = 123


# Per-task probe settings, following Table 5's counterpart of each embedded task.
PROBE_CONFIGS: dict[str, ProbeConfig] = {
    "notes:pitch": ProbeConfig(dropout=0.0),  # NSynth pitch: 512, 0
    "notes:instrument": ProbeConfig(),  # NSynth instr.: 512, 0.1
    "notes:family": ProbeConfig(),
    "tags:tags": ProbeConfig(),  # MTAT top-50: 512, 0.1
    "key:key": ProbeConfig(hidden=(), dropout=0.2),  # GiantSteps: linear, 0.2
    "style:style": ProbeConfig(),  # GTZAN: 512, 0.1
}


class MLPProbe(nn.Module):
    """Standardise → [Linear → ReLU → Dropout] × len(hidden) → Linear."""

    def __init__(self, in_dim: int, out_dim: int, hidden: tuple[int, ...] = (512,), dropout: float = 0.1):
        super().__init__()
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("std", torch.ones(in_dim))
        layers: list[nn.Module] = []
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


@torch.no_grad()
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
    progress: bool = True,
) -> np.ndarray:
    """Average frozen-encoder embeddings over each track's crops (probing protocol).

    Parameters
    ----------
    encoder : nn.Module
        Maps ``[K, 1, L]`` crops to ``[K, D]``; used in eval mode, on its own device.
    paths : list of path-like
        Audio files, one embedding each.
    sample_rate, crop_samples : int
        The encoder's input rate (Hz) and crop length ``L`` (samples).
    max_crops : int
        At most this many non-overlapping crops per track (64 in the paper).
    batch_crops : int
        Crops per forward pass (memory knob only; results do not depend on it).
    corruption : callable, optional
        Applied to each track's crops ``[K, 1, L]`` before encoding (Sec. 5.3 robustness).
    corruption_id : str
        Names the corruption in the cache key (required with ``corruption`` and a cache).
    cache_dir : path-like, optional
        Where ``<hash>.npz`` files are kept.
    progress : bool
        Show a progress bar over tracks.

    Returns
    -------
    np.ndarray
        float32 ``[N, D]``.
    """
    if corruption is not None and cache_dir is not None and not corruption_id:
        raise ValueError("corruption_id must name the corruption when a cache_dir is used")
    cache_path = None
    if cache_dir is not None:
        key = hashlib.sha256(
            repr((weights_hash(encoder), [str(p) for p in paths], sample_rate, crop_samples,
                  max_crops, corruption_id)).encode()
        ).hexdigest()[:24]
        cache_path = Path(cache_dir) / f"{key}.npz"
        if cache_path.exists():
            return np.load(cache_path)["embeddings"]
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters()).device
    sums: list[Tensor | None] = []  # per track: sum of crop embeddings
    counts: list[int] = []
    pending: list[Tensor] = []
    owners: list[int] = []

    def flush():
        crops = torch.cat(pending).to(device)  # [K_total, 1, L]
        h = encoder(crops).float().cpu()  # [K_total, D]
        for track, emb in zip(owners, h, strict=True):
            sums[track] = emb if sums[track] is None else sums[track] + emb
            counts[track] += 1
        pending.clear()
        owners.clear()

    for i, path in enumerate(progress_bar(paths, desc="embedding tracks", disable=not progress, leave=False)):
        crops = read_crops(path, crop_samples, sample_rate, max_crops=max_crops)[:, None]  # [K, 1, L]
        if corruption is not None:
            crops = corruption(crops)
        sums.append(None)
        counts.append(0)
        pending.append(crops)
        owners.extend([i] * len(crops))
        if len(owners) >= batch_crops:
            flush()
    if pending:
        flush()
    encoder.train(was_training)
    embeddings = torch.stack([s / n for s, n in zip(sums, counts, strict=True)]).numpy().astype(np.float32)  # [N, D]
    if cache_path is not None:
        def save(tmp: str) -> None:
            with open(tmp, "wb") as f:  # a file object, so numpy does not append ".npz" to the name
                np.savez(f, embeddings=embeddings)

        atomic_write(cache_path, save)
    return embeddings


def embed_split(encoder: nn.Module, dataset, split: str, cache_dir=None, **options) -> np.ndarray:
    """Embeddings ``[N, D]`` of one split of a dataset with an encoder's own input format.

    A thin wrapper of :func:`extract_embeddings` (same ``options``).
    """
    return extract_embeddings(
        encoder, dataset.subset(split).paths, sample_rate=encoder.sample_rate,
        crop_samples=encoder.crop_samples, cache_dir=cache_dir, **options,
    )


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
        Defaults to ``PROBE_CONFIGS[dataset.name]`` when present.
    cache_dir : path-like, optional
        Embedding cache.
    max_crops : int
        Crops per track at extraction.
    corruptions : dict, optional
        ``{name: fn}``; the same probe is also scored on test embeddings of corrupted audio,
        the scores landing under ``"<name>/<metric>"`` (Sec. 5.3, Appendix 9.4).
    progress : bool
        Show progress bars.
    """
    if dataset.labels is None or dataset.task_type not in ("multiclass", "multilabel", "regression"):
        raise ValueError(f"dataset {dataset.name!r} has no labels to probe (task_type {dataset.task_type!r})")
    config = config or PROBE_CONFIGS.get(probe_key(dataset), ProbeConfig())
    splits = {s: dataset.subset(s) for s in ("train", "valid", "test")}
    empty = [s for s, d in splits.items() if len(d) == 0]
    if empty:
        raise ValueError(f"dataset {dataset.name!r} has empty split(s) {empty}; probes need train/valid/test")

    def embed(split, corruption=None, corruption_id=""):
        return extract_embeddings(
            encoder, splits[split].paths, sample_rate=sample_rate, crop_samples=crop_samples,
            max_crops=max_crops, cache_dir=cache_dir, corruption=corruption,
            corruption_id=corruption_id, progress=progress,
        )

    x = {s: embed(s) for s in splits}
    n_outputs = len(dataset.classes) if dataset.task_type != "regression" else dataset.labels.reshape(len(dataset), -1).shape[1]
    probe, history = train_probe(
        x["train"], splits["train"].labels, x["valid"], splits["valid"].labels,
        dataset.task_type, n_outputs, config,
    )
    is_key = probe_key(dataset).endswith(":key") or "giantsteps" in dataset.name
    y_test = splits["test"].labels

    def score(features):
        return evaluate(dataset.task_type, y_test, predict(probe, features), dataset.classes, key=is_key)

    scores = score(x["test"])
    for name, fn in (corruptions or {}).items():
        cache_id = f"{name}|{getattr(fn, 'cache_id', '')}"  # settings of the corruption, when known
        scores.update({f"{name}/{k}": v for k, v in score(embed("test", fn, cache_id)).items()})
    return ProbeResult(dataset.name, scores, probe, history, {"config": asdict(config)})


def probe_key(dataset) -> str:
    """``"task:label"`` of an embedded dataset (``"notes:pitch"``), else its name."""
    info = getattr(dataset, "info", None) or {}
    if info.get("kind") == "embedded" and info.get("label"):
        return f"{info['task']}:{info['label']}"
    return dataset.name


def append_results(csv_path: str | os.PathLike, rows: list[dict]) -> pd.DataFrame:
    """Append tidy result rows to a CSV atomically (read, concatenate, write temp, rename)."""
    csv_path = Path(csv_path)
    new = pd.DataFrame(rows)
    table = pd.concat([pd.read_csv(csv_path), new], ignore_index=True) if csv_path.exists() else new
    atomic_write(csv_path, lambda tmp: table.to_csv(tmp, index=False))
    return table


def probe_run(
    run_dir: str | os.PathLike,
    data_dir: str | os.PathLike,
    tasks: list[str],
    *,
    seed: int = 123,
    results_csv: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    corruptions: dict[str, Callable[[Tensor], Tensor]] | None = None,
    max_epochs: int | None = None,
    max_crops: int = 64,
    device: str = "cpu",
    progress: bool = True,
) -> pd.DataFrame:
    """Probe a pretraining run's frozen encoder on embedded tasks; return tidy rows.

    Parameters
    ----------
    run_dir : path-like
        A run directory of :mod:`semisup.train`.
    data_dir : path-like
        The embedded benchmark to probe on.
    tasks : list of str
        ``"task"`` or ``"task:label"``, e.g. ``["notes:pitch", "key", "tags"]``.
    seed : int
        Probe initialisation and batch order.
    results_csv : path-like, optional
        Append the rows there (atomically).
    cache_dir : path-like, optional
        Embedding cache (default: ``<run_dir>/embeddings``).
    corruptions : dict, optional
        Extra test-time corruptions, see :func:`probe_task`.
    max_epochs : int, optional
        Cap on probe epochs (smoke runs); default from the task's :class:`ProbeConfig`.
    max_crops : int
        Crops per track at extraction.
    device : str
        Where the encoder runs.
    progress : bool
        Show progress bars.

    Returns
    -------
    pandas.DataFrame
        Columns ``run, checkpoint, task, metric, value, seed``.
    """
    from semisup.data.datasets import load_dataset
    from semisup.train import load_encoder

    encoder = load_encoder(run_dir, device)
    checkpoint = weights_hash(encoder)
    rows = []
    for task in progress_bar(tasks, desc="probing tasks", disable=not progress):
        name, _, label = task.partition(":")
        dataset = load_dataset("embedded", data_dir, task=name, label=label or None)
        config = replace(PROBE_CONFIGS.get(probe_key(dataset), ProbeConfig()), seed=seed)
        if max_epochs is not None:
            config = replace(config, max_epochs=max_epochs)
        result = probe_task(
            encoder, dataset, sample_rate=encoder.sample_rate, crop_samples=encoder.crop_samples,
            config=config, cache_dir=cache_dir or Path(run_dir) / "embeddings", max_crops=max_crops,
            corruptions=corruptions, progress=progress,
        )
        rows += [
            {"run": Path(run_dir).name, "checkpoint": checkpoint, "task": probe_key(dataset),
             "metric": metric, "value": value, "seed": seed}
            for metric, value in result.scores.items()
        ]
    table = pd.DataFrame(rows)
    if results_csv is not None:
        append_results(results_csv, rows)
    scores = ", ".join(f"{r.task} {r.metric} {r.value:.3f}" for r in headline(table).itertuples()) if rows else "no tasks"
    print(f"probes of {Path(run_dir).name}: {scores}")
    return table


HEADLINE_METRICS = ("weighted", "auroc", "accuracy", "r2")  # first present wins, per task


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """Keep each task's main metric (key: weighted score, tags: ROC-AUC, else accuracy).

    Rows of corrupted evaluations (``"<corruption>/<metric>"``) are dropped.
    """
    clean = table[~table["metric"].str.contains("/", regex=False)]
    keep = []
    for _task, rows in clean.groupby("task", sort=False):
        metric = next(m for m in (*HEADLINE_METRICS, rows["metric"].iloc[0]) if (rows["metric"] == m).any())
        keep.append(rows[rows["metric"] == metric])
    return pd.concat(keep) if keep else clean.iloc[:0]
