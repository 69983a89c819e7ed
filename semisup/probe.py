"""Frozen-encoder probes (Sec. 4.3, Sec. 5.2, Appendix 9.1 / Table 5).

The encoder is frozen and its projection head discarded; a small MLP (or linear) probe is
trained with Adam and early stopping on the validation loss, the best-validation weights
restored before testing. The **protocol** says what the probe sees (:data:`PROTOCOLS`):

- ``"crops"`` (default, the authors'): each train and valid epoch draws **one crop per
  track at a random offset** (from each track's pool of crop embeddings,
  :func:`semisup.extract.extract_crop_embeddings`, extracted once); the test embedding of a
  track is the mean of up to 64 non-overlapping crops.
- ``"averaged"``: every split uses the test embedding (mean of ≤ 64 crops), train/valid
  included — the same vector every epoch.

Conventions
-----------
- Embeddings come from :mod:`semisup.extract` (cached, identical for any number of
  workers); a probe draws its crops from a ``torch.Generator`` seeded with
  ``ProbeConfig.seed``, so the same seed gives the same numbers.
- Bad files never crash a probe: unreadable or empty files are left out (a warning names
  each) and counted per split in ``n_skipped_train``, ``n_skipped_valid`` and
  ``n_skipped_test`` rows; missing files are an error naming them.
- Probe inputs are standardised with the training split's mean and std (over all its crops;
  part of the probe, so the same numbers apply at test time): the ReLU encoder outputs have
  very different scales across checkpoints, and Adam at a fixed lr needs comparable inputs.
- Losses by task type: BCE (multi-label), cross-entropy (multi-class), MSE (regression).
- Results are tidy rows ``run, checkpoint, task, metric, value, seed, protocol``. Counts
  (``n_classes_scored``, ``n_skipped_<split>``) and corrupted evaluations
  (``"<corruption>/<metric>"``) share the table; :func:`score_rows` keeps the plain scores.
  :func:`append_results` refuses to mix protocols in one CSV (rows written before the
  protocol column existed count as ``"averaged"``).
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from semisup.data.audio import SkippedFiles
from semisup.data.datasets import AudioDataset
from semisup.extract import (
    CropEmbeddings,
    extract_crop_embeddings,
    extract_embeddings,
    weights_hash,
)
from semisup.metrics import evaluate
from semisup.paths import atomic_write
from semisup.progress import progress_bar

__all__ = [
    "PROTOCOLS",
    "ProbeConfig",
    "PROBE_CONFIGS",
    "EMBEDDED_COUNTERPARTS",
    "probe_config",
    "probe_config_key",
    "MLPProbe",
    "draw_crops",
    "train_probe",
    "predict",
    "probe_task",
    "append_results",
    "protocol_of",
    "probe_run",
    "score_rows",
    "headline",
]

PROTOCOLS = ("crops", "averaged")  # what the probe trains and validates on (module docstring)
LEGACY_PROTOCOL = "averaged"  # rows written before the protocol column were all averaged


@dataclass
class ProbeConfig:
    """Probe head and its training (Sec. 4.3, Appendix 9.1 / Table 5, the authors' configs).

    Table 5 gives one number per dataset under "Dropout / Weight decay" (0 for NSynth pitch,
    0.1 for most, 0.2 for the small datasets); we read it as the dropout rate and take the
    weight decay, max epochs and patience from the authors' released configs
    (``config/finetuning/cross-dataset/*.yaml``; docs/departures.md).
    :func:`probe_config` picks a dataset's row.
    """

    hidden: tuple[int, ...] = (512,)  # Table 5 "512, n_classes"; () = linear ("n_classes" alone)
    dropout: float = 0.1  # after each hidden layer (MLP), on the input (linear probe)
    weight_decay: float = 1e-6  # Adam's, every task of the authors' configs
    lr: float = 3e-4  # Sec. 4.3 (1e-4 for EmoMusic, the authors' config)
    batch_size: int = 64  # the authors' configs
    max_epochs: int = 200  # the authors' configs: 200 for most tasks (MTAT 100, NSynth 20)
    patience: int = 10  # early stopping on validation loss (per task in the authors' configs)
    standardize: bool = True
    seed: int = 123
    protocol: str = "crops"  # PROTOCOLS: one random crop per track and epoch, or track means

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"probe protocol {self.protocol!r}: choose one of {PROTOCOLS}")


def _row(hidden: tuple[int, ...], dropout: float, max_epochs: int, patience: int, lr: float = 3e-4) -> ProbeConfig:
    """One row of :data:`PROBE_CONFIGS` (the other fields are the same for every task)."""
    return ProbeConfig(hidden=hidden, dropout=dropout, max_epochs=max_epochs, patience=patience, lr=lr)


# Table 5 (Appendix 9.1) head and dropout, the authors' max epochs / patience / lr, keyed
# "<loader kind>:<subset or label>" as the loaders record them in ``dataset.info`` ("<kind>"
# alone for one-task datasets). Comments quote Table 5's "Probe layers output dims | Dropout /
# Weight decay" and the config's "max epochs / patience".
_MLP = (512,)  # Table 5 "512, n_classes"
PROBE_CONFIGS: dict[str, ProbeConfig] = {
    "mtat:top50": _row(_MLP, 0.1, 100, 15),  # 512, 288 (sic) | 0.1; 100 / 15
    "mtat:all": _row(_MLP, 0.1, 100, 15),  # N/A | N/A in Table 5: ours, as top50
    "jamendo:top50tags": _row(_MLP, 0.1, 200, 7),  # 512, 50 | 0.1; 200 / 7
    "jamendo:moodtheme": _row(_MLP, 0.1, 200, 7),  # 512, 56 | 0.1; 200 / 7
    "jamendo:genre": _row(_MLP, 0.1, 200, 7),  # 512, 87 | 0.1; 200 / 7
    "jamendo:instrument": _row(_MLP, 0.1, 200, 7),  # 512, 40 | 0.1; 200 / 7
    "nsynth:pitch": _row(_MLP, 0.0, 20, 2),  # 512, 112 | 0; 20 / 2
    "nsynth:family": _row(_MLP, 0.1, 20, 2),  # "Instr.": 512, 24 | 0.1; 20 / 2
    "giantsteps": _row((), 0.2, 200, 50),  # 24 | 0.2; 200 / 50
    "gtzan": _row(_MLP, 0.1, 200, 50),  # 512, 10 | 0.1; 200 / 50
    "vocalset:singer": _row((), 0.2, 200, 50),  # 20 | 0.2; 200 / 50
    "vocalset:technique": _row((), 0.2, 200, 50),  # 17 | 0.2; 200 / 50
    "medleydb": _row((), 0.2, 200, 10),  # 20 | 0.2; 200 / 10
    "emomusic": _row((), 0.1, 200, 200, lr=1e-4),  # 2 (regression) | 0.1; 200 / 200, lr 1e-4
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
    """Return the probe settings of ``dataset``'s row of :data:`PROBE_CONFIGS` (a copy).

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
        f"lr={default.lr}, max_epochs={default.max_epochs}, patience={default.patience}. "
        f"Pass config=ProbeConfig(...) to choose", UserWarning, stacklevel=2)
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


def _loss_fn(task_type: str) -> nn.Module:
    losses = {"multilabel": nn.BCEWithLogitsLoss(), "multiclass": nn.CrossEntropyLoss(), "regression": nn.MSELoss()}
    if task_type not in losses:
        raise ValueError(f"cannot probe task_type {task_type!r}; expected one of {sorted(losses)}")
    return losses[task_type]


def _targets(y: np.ndarray, task_type: str) -> Tensor:
    return torch.as_tensor(y, dtype=torch.long if task_type == "multiclass" else torch.float32)


def _as_pool(x: np.ndarray | CropEmbeddings) -> tuple[Tensor, Tensor]:
    """Crops ``[K_total, D]`` (float32) and per-track offsets ``[N + 1]`` of probe inputs.

    Track means ``[N, D]`` are a pool of one crop per track.
    """
    if isinstance(x, CropEmbeddings):
        return torch.as_tensor(x.crops).float(), torch.as_tensor(x.offsets)
    crops = torch.as_tensor(x, dtype=torch.float32)
    return crops, torch.arange(len(crops) + 1)


def draw_crops(crops: Tensor, offsets: Tensor, generator: torch.Generator) -> Tensor:
    """One crop per track, uniformly at random within each track's pool (one probe epoch).

    Parameters
    ----------
    crops : Tensor
        ``[K_total, D]`` crop embeddings, track ``j``'s in ``crops[offsets[j]:offsets[j + 1]]``.
    offsets : Tensor
        int64 ``[N + 1]``.
    generator : torch.Generator
        The probe's; untouched when every track has one crop (track means), so the averaged
        protocol draws nothing.

    Returns
    -------
    Tensor
        ``[N, D]``.
    """
    counts = offsets[1:] - offsets[:-1]  # [N]
    if bool((counts == 1).all()):
        return crops[offsets[:-1]]
    pick = (torch.rand(len(counts), generator=generator, dtype=torch.float64) * counts).long()  # [N]
    return crops[offsets[:-1] + pick]


def train_probe(
    x_train: np.ndarray | CropEmbeddings,
    y_train: np.ndarray,
    x_valid: np.ndarray | CropEmbeddings,
    y_valid: np.ndarray,
    task_type: str,
    n_outputs: int,
    config: ProbeConfig | None = None,
) -> tuple[MLPProbe, pd.DataFrame]:
    """Train a probe with early stopping on validation loss (Sec. 4.3, the authors' protocol).

    Each epoch draws one crop per train track and one per valid track (:func:`draw_crops`)
    from the pools; with track means ``[N, D]`` the same vectors serve every epoch.

    Parameters
    ----------
    x_train, x_valid : array [N, D] or CropEmbeddings
        Frozen embeddings: track means, or crop pools (one row of ``y`` per track).
    y_train, y_valid : array
        Targets: int ``[N]`` (multiclass), 0/1 ``[N, C]`` (multilabel), float ``[N, K]``.
    task_type : str
        "multiclass", "multilabel" or "regression" (picks CE, BCE or MSE).
    n_outputs : int
        Number of classes / tags / regression targets.
    config : ProbeConfig
        Head and optimiser settings; its seed drives initialisation, batch order and draws.

    Returns
    -------
    (MLPProbe, pandas.DataFrame)
        The probe with its best-validation weights restored, and the per-epoch history
        (``epoch, train_loss, valid_loss``).
    """
    config = config or ProbeConfig()
    loss_fn = _loss_fn(task_type)
    (train_crops, train_offsets), (valid_crops, valid_offsets) = _as_pool(x_train), _as_pool(x_valid)
    n_train, n_valid = len(train_offsets) - 1, len(valid_offsets) - 1
    if n_train == 0 or n_valid == 0:
        raise ValueError(f"probe needs non-empty train and valid splits, got {n_train} and {n_valid}")
    if (n_train, n_valid) != (len(y_train), len(y_valid)):
        raise ValueError(f"{n_train} train and {n_valid} valid tracks embedded but {len(y_train)} and "
                         f"{len(y_valid)} targets given: pass one target row per track")
    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)  # layer initialisation
    yt, yv = _targets(y_train, task_type), _targets(y_valid, task_type)
    probe = MLPProbe(train_crops.shape[1], n_outputs, tuple(config.hidden), config.dropout)
    if config.standardize:  # over every train crop: the inputs the probe will see
        probe.mean.copy_(train_crops.mean(0))
        probe.std.copy_(train_crops.std(0).clamp_min(1e-6))
    optimizer = torch.optim.Adam(probe.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    best_loss, best_state, stale, history = float("inf"), None, 0, []
    for epoch in range(config.max_epochs):
        probe.train()
        xt = draw_crops(train_crops, train_offsets, generator)  # [N_train, D]
        order = torch.randperm(n_train, generator=generator)
        total = 0.0
        for start in range(0, n_train, config.batch_size):
            batch = order[start:start + config.batch_size]
            loss = loss_fn(probe(xt[batch]), yt[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        probe.eval()
        with torch.no_grad():
            valid_loss = loss_fn(probe(draw_crops(valid_crops, valid_offsets, generator)), yv).item()
        history.append({"epoch": epoch, "train_loss": total / n_train, "valid_loss": valid_loss})
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
    """Extract embeddings, train a probe on train/valid, score it on test (Sec. 4.3, 5.2).

    ``config.protocol`` says what train/valid embeddings are (module docstring): crop pools
    (``"crops"``, default) or track means (``"averaged"``); test is always the track mean.

    Parameters
    ----------
    encoder : nn.Module
        Frozen encoder ``[K, 1, L] -> [K, 512]``.
    dataset : semisup.data.datasets.AudioDataset
        With ``train``, ``valid`` and ``test`` splits and labels.
    sample_rate, crop_samples : int
        Encoder input rate and crop length.
    config : ProbeConfig, optional
        Defaults to the dataset's row, :func:`probe_config` (protocol ``"crops"``).
    cache_dir : path-like, optional
        Embedding cache.
    max_crops : int
        Crops per track at extraction: of the test mean and of each crop pool.
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

    def pool(split):
        return extract_crop_embeddings(
            encoder, splits[split].paths, sample_rate=sample_rate, crop_samples=crop_samples, max_crops=max_crops,
            cache_dir=cache_dir, workers=workers, skip_bad=skip_bad, skipped=skipped, progress=progress,
        )

    # "crops": train/valid draw from crop pools, test uses track means; "averaged": means only.
    found = {s: pool(s) if config.protocol == "crops" and s != "test" else embed(s) for s in splits}
    for split, result in found.items():
        if len(result.kept) == 0:
            raise ValueError(f"dataset {dataset.name!r}: none of the {len(splits[split])} {split} files could be "
                             f"read, e.g. {next(iter(result.skipped.values()))}")
    x = {s: result if isinstance(result, CropEmbeddings) else result.embeddings for s, result in found.items()}
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


def _protocols(table: pd.DataFrame) -> pd.Series:
    """Each row's probe protocol; rows written before the column existed were averaged."""
    if "protocol" not in table:
        return pd.Series(LEGACY_PROTOCOL, index=table.index)
    return table["protocol"].fillna(LEGACY_PROTOCOL)


def protocol_of(table: pd.DataFrame, source: str) -> str:
    """Return the one probe protocol of a result table (``source`` names it in errors).

    Raises
    ------
    ValueError
        When the rows mix protocols (an old run's rows beside new ones, say), so no summary
        is ever computed from mixed-protocol numbers.
    """
    found = sorted(set(_protocols(table)))
    if len(found) != 1:
        where = {p: sorted(set(table.loc[_protocols(table) == p, "run"].astype(str)))[:3] if "run" in table else []
                 for p in found}
        raise ValueError(f"{source} mixes probe protocols {found} (e.g. runs {where}); re-probe the old runs "
                         f"(delete their folders or results) so every number comes from one protocol")
    return found[0]


def append_results(csv_path: str | os.PathLike, rows: list[dict]) -> pd.DataFrame:
    """Append tidy result rows to a CSV atomically (read, concatenate, write temp, rename).

    Raises
    ------
    ValueError
        When the rows' ``protocol`` differs from that of rows already in the file (rows
        without the column were written by the ``"averaged"`` protocol): one CSV never
        mixes probe protocols.
    """
    csv_path = Path(csv_path)
    new = pd.DataFrame(rows)
    old = pd.read_csv(csv_path) if csv_path.exists() else None
    if old is not None and len(old) and "protocol" in new:
        before = set(_protocols(old))
        if before != set(new["protocol"]):
            raise ValueError(f"{csv_path} holds probe results of protocol {sorted(before)}, these rows are "
                             f"{sorted(set(new['protocol']))}: write them to another file (or delete the old one), "
                             f"so no table mixes protocols")
    table = new if old is None else pd.concat([old, new], ignore_index=True)
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
    protocol: str = "crops",
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
        Probe initialisation, batch order and crop draws.
    results_csv : path-like, optional
        Append the rows there (atomically; never to a file of another protocol).
    cache_dir : path-like, optional
        Embedding cache (default: ``<run>/embeddings`` for a run directory, none for an
        encoder).
    corruptions : dict, optional
        Extra test-time corruptions, see :func:`probe_task`.
    max_epochs : int, optional
        Cap on probe epochs (smoke runs): each task trains for at most the smaller of this and
        its :class:`ProbeConfig`'s ``max_epochs``.
    max_crops : int
        Crops per track at extraction (test mean and crop pools).
    protocol : str
        ``"crops"`` (the authors': one random crop per track and epoch) or ``"averaged"``
        (track means everywhere); see the module docstring.
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
        Columns ``run, checkpoint, task, metric, value, seed, protocol``.
    """
    from semisup.data.spec import DatasetSpec
    from semisup.train import load_encoder

    if isinstance(run, nn.Module):
        encoder, run_name, run_cache = run, run_name or "encoder", None
    else:
        encoder, run_name, run_cache = load_encoder(run, device), run_name or Path(run).name, Path(run) / "embeddings"
    if protocol not in PROTOCOLS:
        raise ValueError(f"probe protocol {protocol!r}: choose one of {PROTOCOLS}")
    checkpoint = weights_hash(encoder)
    rows = []
    for task in progress_bar(tasks, desc="probing tasks", disable=not progress):
        dataset = task if isinstance(task, AudioDataset) else DatasetSpec.parse(task).load()
        task = str(task) if isinstance(task, str) else dataset.info.get("spec", dataset.name)
        config = replace(probe_config(dataset), seed=seed, protocol=protocol)
        if max_epochs is not None:  # a cap: a task's own schedule (NSynth: 20) stays when shorter
            config = replace(config, max_epochs=min(config.max_epochs, max_epochs))
        result = probe_task(
            encoder, dataset, sample_rate=encoder.sample_rate, crop_samples=encoder.crop_samples,
            config=config, cache_dir=cache_dir or run_cache, max_crops=max_crops,
            corruptions=corruptions, workers=workers, skipped=skipped, progress=progress,
        )
        rows += [
            {"run": run_name, "checkpoint": checkpoint, "task": task,
             "metric": metric, "value": value, "seed": seed, "protocol": protocol}
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
