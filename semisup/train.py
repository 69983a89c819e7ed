"""Pretraining: self-supervised, semi-supervised and supervised contrastive (Sec. 3, 4.3).

One config drives every variant: ``bs = 0`` (or ``ps = 0``) is CLMR-style SSL, ``bs = 1``
is SupCon, anything between is SemiSupCon; ``objective="supervised"`` trains the
end-to-end baseline (same encoder, BCE/CE head, Table 2 / Figure 3). Data is named by
dataset specs (:mod:`semisup.data.spec`), raw or prepared:

    python -m semisup.train --run-dir runs/ssl --ps 0 --bs 0 --steps 200
    python -m semisup.train --preset paper --run-dir runs/paper \
        --labeled "prepared:/data/mtat_22k" --unlabeled "prepared:/data/fma_22k"
    torchrun --nproc-per-node 4 -m semisup.train --preset paper --run-dir runs/paper ...

Conventions
-----------
- A run directory holds ``config.json``, ``metrics.csv`` (one row per step) and
  ``checkpoint.pt`` (the latest; model, optimiser, sampler and RNG states), written
  atomically (temp file + rename), so a kill at any moment leaves the previous one intact.
- Started again with the same command, a run resumes from its checkpoint; on CPU the final
  weights are bit-identical to an uninterrupted run: batch ``k`` and its augmentation draw
  are pure functions of ``(seed, rank, k)``.
- ``batch_size`` is the global number of clips per step; under ``torchrun`` each of the W
  ranks draws ``batch_size / W`` clips and the loss gathers projections from all ranks
  (negatives from the global batch). BatchNorm statistics stay per rank.
- Presets (:data:`PRESETS`) are named sets of fields (``--preset paper`` = Sec. 4.3);
  explicit flags override them and ``config.json`` records the preset's name.
- A start that fails (bad flag, missing data, unknown encoder) leaves the run directory as
  it was: data, sampler and model are built before anything is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from semisup.augment import AugmentationChain
from semisup.data.datasets import AudioDataset
from semisup.data.sampler import SemiSupervisedSampler
from semisup.data.spec import DatasetSpec
from semisup.encoders import ENCODER_CONFIGS, ContrastiveModel, build_encoder
from semisup.loss import SemiSupConLoss, contrastive_sparsity, contrastive_target
from semisup.paths import atomic_write
from semisup.progress import progress_bar, training_summary

__all__ = [
    "TrainConfig",
    "PRESETS",
    "train",
    "load_encoder",
    "load_config",
    "default_run_dir",
    "build_sampler",
    "preview_batch",
    "supervised_pairs",
    "describe",
    "input_format",
    "learning_settings",
    "trains_without_pitch_shift",
    "labels_are_pitch_or_key",
    "resolve_pitch_shift",
    "uses_labels",
    "main",
]

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.csv"
CONFIG = "config.json"
# Fields that do not change what is learned (resume may change them).
_RUNTIME_FIELDS = {"run_dir", "device", "num_workers", "progress", "checkpoint_every", "skip_bad", "preset"}
# The default data: the embedded benchmark's tags (MTAT-like) and unlabeled pool (FMA-like).
DEFAULT_LABELED = "embedded:data/small?task=tags"
DEFAULT_UNLABELED = "embedded:data/small?task=unlabeled"

# Training precisions: the authors pretrain in fp32 (Lightning precision: null); bf16 autocast
# on CUDA is an opt-in for speed (benchmarks/gpu_check.py measures both).
PRECISIONS = ("fp32", "bf16")
# Named sets of fields; explicit values override them (TrainConfig.from_preset, --preset).
PRESETS: dict[str, dict] = {
    # Sec. 4.3 / REFERENCE "Batches": SampleCNN on 2.7 s crops of 22 050 Hz audio, 2 views,
    # batch 96, Adam 1e-4 without schedule, tau 0.1, 200k steps, seed 123, fp32 (the authors'
    # precision: null; --amp bf16 is the opt-in).
    "paper": dict(encoder="samplecnn", sample_rate=22050, crop_samples=59535, n_views=2,
                  batch_size=96, lr=1e-4, temperature=0.1, steps=200_000, seed=123, amp="fp32"),
    # The ablations of Sec. 5.4 / Appendix 9.3: the same for 50k steps.
    "ablation": dict(encoder="samplecnn", sample_rate=22050, crop_samples=59535, n_views=2,
                     batch_size=96, lr=1e-4, temperature=0.1, steps=50_000, seed=123, amp="fp32"),
}


@dataclass
class TrainConfig:
    """Everything a pretraining run depends on; saved as ``config.json`` in the run dir."""

    run_dir: str = "runs/default"
    labeled: str = DEFAULT_LABELED  # dataset spec of the supervision (Sec. 3.3); "" for none
    unlabeled: str = DEFAULT_UNLABELED  # dataset spec of the unlabeled pool (FMA-like); "" for none
    preset: str = ""  # name of the PRESETS entry this config started from ("" = none)
    encoder: str = "small"  # "samplecnn" | "tuneplus" | "small"
    sample_rate: int = 0  # Hz; 0 = the encoder's default (22 050 paper, 16 000 small)
    crop_samples: int = 0  # L; 0 = the encoder's default (59 535 paper, 19 683 small)
    n_views: int = 2  # Sec. 4.2: two adjacent crops; Table 7 varies it
    batch_size: int = 32  # clips per step over all ranks (paper: 96)
    ps: float = 1.0  # share of the labeled set used at all (Sec. 3.3)
    bs: float = 0.5  # share of each batch that is labeled (Sec. 3.3; Table 3 uses 0.5)
    criterion: int | str = 1  # C shared labels, or "weighted" (Sec. 3.3.1)
    temperature: float = 0.1  # tau, Sec. 4.3
    severity: int = 2  # augmentation chain severity (Sec. 5.3); 2 = Table 1
    augment_p: float = 0.8  # probability of applying the whole chain (authors' code)
    pitch_shift: bool | str = "auto"  # "auto": off when the labels the run uses are pitches or keys (Table 3 †), else on
    steps: int = 300  # optimiser steps (paper: 200k; 50k for ablations)
    lr: float = 1e-3  # Adam, no schedule; the paper uses 1e-4 over 200k steps, 1e-3 lets CPU-sized runs learn
    seed: int = 123  # REFERENCE.md
    device: str = "auto"  # "auto" = cuda when available, else cpu
    amp: str = "fp32"  # "fp32" (the authors' precision: null) or "bf16" autocast on CUDA, a speed option (ignored on CPU)
    num_workers: int | str = "auto"  # DataLoader workers; "auto": cores - 1 per GPU on CUDA, 1 on CPU
    checkpoint_every: int = 50  # steps between checkpoints (and at the last step)
    objective: str = "contrastive"  # or "supervised": end-to-end BCE/CE baseline
    gather: bool = True  # gather projections across ranks for global negatives
    skip_bad: bool = False  # skip unreadable audio files (counted) instead of failing
    progress: bool = True  # tqdm progress bar

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        def fail(name, why):
            raise ValueError(f"{name}={getattr(self, name)!r}: {why}")

        for name in ("ps", "bs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                fail(name, "must be a fraction in [0, 1]")
        if self.criterion != "weighted" and (isinstance(self.criterion, bool) or not isinstance(self.criterion, int) or self.criterion < 1):
            fail("criterion", "must be an int C >= 1 or 'weighted'")
        for name in ("n_views", "batch_size", "steps", "checkpoint_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                fail(name, "must be an int >= 1")
        if self.severity not in (0, 1, 2, 3, 4):
            fail("severity", "must be one of 0, 1, 2, 3, 4 (Sec. 5.3)")
        if not self.lr > 0 or not self.temperature > 0:
            fail("lr" if not self.lr > 0 else "temperature", "must be > 0")
        if self.pitch_shift not in (True, False, "auto"):
            fail("pitch_shift", "must be true, false or 'auto' (decided from the labeled dataset, Table 3 †)")
        if self.amp not in PRECISIONS:
            fail("amp", f"choose one of {PRECISIONS} (fp32 is the paper's; bf16 autocast is faster on CUDA)")
        if self.objective not in ("contrastive", "supervised"):
            fail("objective", "must be 'contrastive' or 'supervised'")
        if self.device not in ("auto", "cpu") and not self.device.startswith("cuda"):
            fail("device", "must be 'auto', 'cpu' or 'cuda[:i]'")
        if self.num_workers != "auto" and (isinstance(self.num_workers, bool) or not isinstance(self.num_workers, int)
                                           or self.num_workers < 0):
            fail("num_workers", "must be an int >= 0 or 'auto'")
        for name in ("sample_rate", "crop_samples"):
            if getattr(self, name) < 0:
                fail(name, "must be >= 0 (0: the encoder's default)")
        if self.encoder not in ENCODER_CONFIGS:
            fail("encoder", f"choose one of {sorted(ENCODER_CONFIGS)}")
        if self.preset and self.preset not in PRESETS:
            fail("preset", f"choose one of {sorted(PRESETS)}")
        for name in ("labeled", "unlabeled"):
            if getattr(self, name):
                try:
                    DatasetSpec.parse(getattr(self, name))
                except (ValueError, TypeError) as error:
                    fail(name, str(error))
        if not self.labeled and not self.unlabeled:
            fail("labeled", "a run needs data: give a labeled and/or an unlabeled dataset spec")

    @classmethod
    def from_preset(cls, name: str, **overrides) -> TrainConfig:
        """Build a config from ``PRESETS[name]``, then ``overrides`` (explicit values win)."""
        if name not in PRESETS:
            raise ValueError(f"preset={name!r}: choose one of {sorted(PRESETS)}")
        return cls(**{**PRESETS[name], "preset": name, **overrides})


def load_config(run_dir: str | os.PathLike) -> TrainConfig:
    """Read a run's ``config.json``."""
    path = Path(run_dir) / CONFIG
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: is {run_dir} a run directory of semisup.train?")
    return config_from_dict(json.loads(path.read_text()))


def labels_are_pitch_or_key(dataset: AudioDataset) -> bool:
    """Say whether a loaded dataset's labels are pitches or keys (Table 3, †).

    NSynth pitch, GiantSteps key, the embedded benchmark's ``notes`` pitch and ``key``
    labels, and prepared copies of those (judged by their source's kind and label).
    """
    info = dataset.info
    kind = info.get("source_kind") if info.get("kind") == "prepared" else info.get("kind")
    return kind == "giantsteps" or (kind in ("nsynth", "embedded") and info.get("label") in ("pitch", "key"))


@functools.lru_cache(maxsize=64)
def _spec_labels_are_pitch_or_key(labeled: str) -> bool:
    return labels_are_pitch_or_key(DatasetSpec.parse(labeled).load())


def trains_without_pitch_shift(labeled: str | AudioDataset) -> bool:
    """Say whether a model trained on these labels skips pitch shifting (Table 3, †).

    The paper trains its pitch (NSynth) and key (GiantSteps) models without pitch shifting:
    shifting a labeled clip would contradict its label. ``labeled`` is a dataset spec (loaded
    once per process, so ``nsynth:/data/nsynth`` counts with its default label, pitch) or a
    loaded dataset; ``""`` (no labels) is False.
    """
    if isinstance(labeled, AudioDataset):
        return labels_are_pitch_or_key(labeled)
    return bool(labeled) and _spec_labels_are_pitch_or_key(labeled)


def uses_labels(config: TrainConfig) -> bool:
    """Say whether a run draws labeled clips (supervised, or contrastive with p_s, b_s > 0)."""
    return config.objective == "supervised" or (config.ps > 0 and config.bs > 0)


def resolve_pitch_shift(config: TrainConfig) -> TrainConfig:
    """Return ``config`` with ``pitch_shift="auto"`` decided from the loaded labeled dataset.

    Off when the run uses labels that are pitches or keys (:func:`trains_without_pitch_shift`),
    on otherwise (the self-supervised model keeps the whole chain of Table 1). Runs write the
    decided value to ``config.json``.
    """
    if config.pitch_shift != "auto":
        return config
    without = uses_labels(config) and trains_without_pitch_shift(config.labeled)
    return dataclasses.replace(config, pitch_shift=not without)


def _datasets(config: TrainConfig):
    """Labeled and unlabeled training sources for the sampler (only those the run uses)."""
    labeled = unlabeled = None
    if uses_labels(config):
        if not config.labeled:
            raise ValueError(f"ps={config.ps}, bs={config.bs} (objective {config.objective!r}) need "
                             f"labeled data: pass a dataset spec as labeled (--labeled)")
        labeled = DatasetSpec.parse(config.labeled).load()
    if config.objective == "contrastive" and config.bs < 1 and config.unlabeled:
        unlabeled = DatasetSpec.parse(config.unlabeled).load()
    return labeled, unlabeled


class SupervisedModel(nn.Module):
    """End-to-end baseline: the encoder and a linear classifier trained with BCE/CE."""

    def __init__(self, encoder: nn.Module, n_classes: int):
        super().__init__()
        self.encoder = encoder
        self.classifier = nn.Linear(encoder.embedding_dim, n_classes)

    def forward(self, audio):
        """Map crops ``[B, V, L]`` to logits ``[B, V, C]``."""
        b, v, n = audio.shape
        return self.classifier(self.encoder(audio.reshape(b * v, 1, n))).reshape(b, v, -1)


def _build_model(config: TrainConfig, n_classes: int) -> nn.Module:
    overrides = {k: getattr(config, k) for k in ("sample_rate", "crop_samples") if getattr(config, k)}
    encoder = build_encoder(config.encoder, **overrides)
    if config.objective == "supervised":
        return SupervisedModel(encoder, n_classes)
    return ContrastiveModel(encoder)


def _step_generator(seed: int, rank: int, step: int, device: torch.device) -> torch.Generator:
    """Seed the augmentation draw of ``step`` on ``rank`` from nothing but its inputs."""
    words = np.random.SeedSequence([seed, rank, step, 0xA06]).generate_state(2, dtype=np.uint64)
    return torch.Generator(device=device).manual_seed(int(words[0] >> np.uint64(1)))


def _distributed() -> tuple[int, int]:
    """Initialise torch.distributed under torchrun; return (rank, world_size)."""
    if "RANK" not in os.environ or int(os.environ.get("WORLD_SIZE", "1")) < 2:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _device(config: TrainConfig, rank: int) -> torch.device:
    if config.device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", rank % torch.cuda.device_count())
        return torch.device("cpu")
    return torch.device(config.device)


def _check_run_dir(config: TrainConfig) -> Path:
    """Check that an existing run directory belongs to this config (steps may grow); write nothing."""
    run_dir = Path(config.run_dir)
    path = run_dir / CONFIG
    if path.exists():
        saved = learning_settings(config_from_dict(json.loads(path.read_text())))
        mine = learning_settings(config)
        changed = sorted(k for k in mine if k != "steps" and saved.get(k) != mine[k])
        if changed:
            raise ValueError(
                f"{run_dir} holds a run with a different config ({', '.join(f'{k}: {saved.get(k)!r} -> {mine[k]!r}' for k in changed)}); "
                f"use a new --run-dir or delete the old one"
            )
    return run_dir


def _write_config(config: TrainConfig, run_dir: Path) -> None:
    atomic_write(run_dir / CONFIG, lambda tmp: Path(tmp).write_text(json.dumps(asdict(config), indent=2)))


def config_from_dict(fields: dict) -> TrainConfig:
    """Build a config from a saved ``config.json``, reading older layouts too.

    Runs saved before dataset specs named their data ``data_dir`` + ``labeled_task``
    (``"task[:label]"``) + ``unlabeled_task`` of the embedded benchmark; they map onto
    ``embedded:`` specs. Runs saved when ``amp`` was a boolean (``true``: bf16 autocast)
    map onto ``"bf16"`` / ``"fp32"``.
    """
    fields = dict(fields)
    if isinstance(fields.get("amp"), bool):
        fields["amp"] = "bf16" if fields["amp"] else "fp32"
    if "data_dir" in fields:
        data_dir = fields.pop("data_dir")
        task, _, label = fields.pop("labeled_task", "").partition(":")
        pool = fields.pop("unlabeled_task", "")
        fields["labeled"] = f"embedded:{data_dir}?task={task}" + (f"&label={label}" if label else "") if task else ""
        fields["unlabeled"] = f"embedded:{data_dir}?task={pool}" if pool else ""
    return TrainConfig(**fields)


def _write_metrics(path: Path, rows: list[dict], keep_before: int | None = None) -> None:
    """Append rows to metrics.csv; on resume first drop rows from steps >= ``keep_before``."""
    import pandas as pd

    old = pd.read_csv(path) if path.exists() and path.stat().st_size else pd.DataFrame()
    if keep_before is not None and len(old):
        old = old[old["step"] < keep_before]
    table = pd.concat([old, pd.DataFrame(rows)], ignore_index=True)
    atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))


def input_format(config: TrainConfig) -> tuple[int, int]:
    """Sample rate and crop length of the configured encoder (config overrides first)."""
    defaults = ENCODER_CONFIGS[config.encoder] if config.encoder in ENCODER_CONFIGS else None
    if defaults is None:
        raise ValueError(f"encoder={config.encoder!r}: choose one of {sorted(ENCODER_CONFIGS)}")
    return config.sample_rate or defaults.sample_rate, config.crop_samples or defaults.crop_samples


def build_sampler(config: TrainConfig, rank: int = 0, world: int = 1):
    """Build the semi-supervised batch sampler of a config (Sec. 3.3); return it and its labeled set."""
    labeled, unlabeled = _datasets(config)
    sample_rate, crop_samples = input_format(config)
    supervised = config.objective == "supervised"
    sampler = SemiSupervisedSampler(
        labeled, unlabeled,
        batch_size=config.batch_size // world,
        ps=config.ps,
        bs=1.0 if supervised else config.bs,
        n_views=1 if supervised else config.n_views,
        crop_samples=crop_samples,
        sample_rate=sample_rate,
        seed=config.seed,
        rank=rank,
        world_size=world,
        skip_bad=config.skip_bad,
    )
    return sampler, labeled


def supervised_pairs(labels, criterion: int | str = 1) -> int:
    """Count pairs of different clips that are supervised positives (Sec. 3.3.1, criterion C)."""
    if labels is None or len(labels) < 2:
        return 0
    target = contrastive_target(torch.as_tensor(labels), 1, criterion)  # [n_l, n_l], one view per clip
    return int((target > 0).sum().item()) // 2  # the target has a zero diagonal


def preview_batch(config: TrainConfig, look_ahead: int = 50) -> dict:
    """Return a training batch of a config (before augmentation), for a look.

    Of batches ``0 … look_ahead - 1``, the first with the most supervised positive pairs
    between different clips (chosen from the labels alone, so only that batch is read);
    ``batch["batch_index"]`` says which, ``batch["supervised_pairs"]`` how many pairs.
    """
    sampler = build_sampler(config)[0]
    pairs = [supervised_pairs(sampler.batch_labels(k), config.criterion) for k in range(look_ahead)]
    best = int(np.argmax(pairs))
    return {**sampler.batch(best), "supervised_pairs": pairs[best]}


def describe(config: TrainConfig):
    """Return the fields of a config that decide what it learns, as a two-column table."""
    import pandas as pd

    fields = ["encoder", "labeled", "unlabeled", "ps", "bs", "criterion", "n_views", "batch_size", "steps",
              "lr", "temperature", "severity", "pitch_shift", "objective", "seed"]
    config = resolve_pitch_shift(config)
    sample_rate, crop_samples = input_format(config)
    rows = [(name, getattr(config, name)) for name in fields]
    rows.insert(1, ("input", f"{crop_samples} samples at {sample_rate} Hz ({crop_samples / sample_rate:.2f} s)"))
    return pd.DataFrame(rows, columns=["setting", "value"]).set_index("setting")


def learning_settings(config: TrainConfig) -> dict:
    """Return the fields that decide what a run learns, in canonical form.

    Runtime fields (device, workers, ...) are dropped, and a contrastive run that uses no
    labels (``ps = 0`` or ``bs = 0``) is the same self-supervised run whatever its labeled
    task or criterion, so those fields are normalised. ``pitch_shift="auto"`` stays as it is
    (naming a run loads no data); :func:`train` resolves it before comparing with a saved run.
    """
    fields = {k: v for k, v in asdict(config).items() if k not in _RUNTIME_FIELDS}
    if config.objective == "contrastive" and (config.ps == 0 or config.bs == 0):
        fields.update(ps=0.0, bs=0.0, labeled="", criterion=1)
    if config.objective == "supervised" or config.bs == 1:
        fields.update(unlabeled="")  # no unlabeled clip is drawn
    sample_rate, crop_samples = input_format(config)
    fields.update(sample_rate=sample_rate, crop_samples=crop_samples)  # 0 = the encoder's default
    return fields


def default_run_dir(config: TrainConfig, root: str = "runs") -> str:
    """Name a run directory after the settings that change results, plus a hash of all.

    Runs with identical :func:`learning_settings` share it (a finished run is then reused,
    an unfinished one resumed); any other change gives a new folder, so notebooks never clash.
    """
    fields = learning_settings(config)
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:8]
    task = DatasetSpec.parse(fields["labeled"]).slug if fields["labeled"] else "none"
    name = (f"{config.objective[:5]}-{config.encoder}-{task}-ps{fields['ps']:g}-bs{fields['bs']:g}"
            f"-C{fields['criterion']}-v{config.n_views}-s{config.steps}-seed{config.seed}-{digest}")
    return str(Path(root) / name)


def loader_workers(num_workers: int | str, device: torch.device, world: int = 1) -> int:
    """DataLoader workers for ``num_workers`` (``"auto"``: feed a GPU, stay light on a CPU).

    ``"auto"`` gives each rank on CUDA its share of the cores less one (at least 1): a GPU
    consumes thousands of clips/s and a prepared WAV cache delivers ~1 500–2 000 per core.
    On a CPU the model is the bottleneck and one worker overlaps I/O with compute.
    """
    if num_workers != "auto":
        return int(num_workers)
    if device.type != "cuda":
        return 1
    local_ranks = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    return max(1, (os.cpu_count() or 2) // local_ranks - 1)


def train(config: TrainConfig) -> Path:
    """Run (or resume) pretraining as configured; return the run directory.

    Each step: draw a semi-supervised batch ``[B, V, L]`` (Sec. 3.3), augment every crop
    independently (Table 1), project, and minimise Eq. 3 (or BCE/CE for the supervised
    baseline). Logs step, loss, s_sl, s_smsl, labeled fraction, clips/s, the data share of
    the step (time spent waiting for the loader), bad files skipped and lr.
    """
    config = resolve_pitch_shift(config)  # config.json records the decided value
    rank, world = _distributed()
    is_main = rank == 0
    if config.batch_size % world:
        raise ValueError(f"batch_size={config.batch_size} must be divisible by the {world} ranks")
    device = _device(config, rank)
    run_dir = _check_run_dir(config)
    # Everything that can fail on user input comes before the first write to run_dir.
    torch.manual_seed(config.seed)  # model initialisation, identical on every rank
    sampler, labeled = build_sampler(config, rank, world)
    model = _build_model(config, len(labeled.classes) if labeled is not None else 0).to(device)
    if is_main:
        _write_config(config, run_dir)
    sample_rate = model.encoder.sample_rate
    chain = AugmentationChain(sample_rate, severity=config.severity, p_chain=config.augment_p,
                              exclude=() if config.pitch_shift else ("pitch",)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    start = 0
    checkpoint_path = run_dir / CHECKPOINT
    if checkpoint_path.exists():
        state = torch.load(checkpoint_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        sampler.load_state_dict(state["sampler"][rank] if world > 1 else state["sampler"][0])
        torch.set_rng_state(state["rng"]["torch"])
        np.random.set_state(state["rng"]["numpy"])
        random.setstate(state["rng"]["python"])
        start = state["step"]
    if start >= config.steps:
        if is_main:
            print(f"{run_dir} was already trained; {training_summary(run_dir / METRICS, config.batch_size)}")
        return run_dir
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    loss_fn = SemiSupConLoss(config.temperature, config.criterion, gather=config.gather)
    workers = loader_workers(config.num_workers, device, world)
    loader = torch.utils.data.DataLoader(
        sampler, batch_size=None, num_workers=workers,
        pin_memory=device.type == "cuda", persistent_workers=workers > 0,
    )
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.amp == "bf16" and device.type == "cuda")
    rows: list[dict] = []
    first_write = True
    progress = progress_bar(total=config.steps, initial=start, desc="pretraining", disable=not (config.progress and is_main))
    batches = iter(loader)
    tick = time.perf_counter()
    model.train()
    for step in range(start, config.steps):
        batch = next(batches)
        data_s = time.perf_counter() - tick  # waiting for the loader: the data share of the step
        audio = batch["audio"].to(device, non_blocking=True)  # [B, V, L]
        b, v, n = audio.shape
        generator = _step_generator(config.seed, rank, step, device)
        audio = chain(audio.reshape(b * v, 1, n), generator=generator).reshape(b, v, n)
        labels = batch["labels"].to(device)
        with autocast:
            out = model(audio)  # [B, V, 128] projections or [B, 1, C] logits
        if config.objective == "supervised":
            loss = _supervised_loss(out[:, 0].float(), labels, labeled.task_type)
            sparsity = {"s_sl": math.nan, "s_smsl": math.nan}
        else:
            loss = loss_fn(out.float(), labels)
            with torch.no_grad():
                sparsity = contrastive_sparsity(contrastive_target(labels, v, config.criterion), batch["labeled"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            raise FloatingPointError(f"loss became {loss_value} at step {step}; lower --lr or check the data")
        now = time.perf_counter()
        step_s = max(now - tick, 1e-9)
        clips_per_s = b * world / step_s
        tick = now
        rows.append({
            "step": step, "loss": loss_value, **sparsity,
            "labeled_fraction": float(batch["labeled"].float().mean()),
            "clips_per_s": clips_per_s, "data_share": data_s / step_s, "n_skipped": batch["n_skipped"],
            "lr": optimizer.param_groups[0]["lr"],
        })
        progress.set_postfix(loss=f"{loss_value:.3f}", clips_s=f"{clips_per_s:.1f}", data=f"{data_s / step_s:.0%}",
                             refresh=False)
        progress.update(1)
        done = step + 1
        if done % config.checkpoint_every == 0 or done == config.steps:
            sampler_states = _gather_objects({"next_batch": done}, world)
            if is_main:
                _write_metrics(run_dir / METRICS, rows, keep_before=start if first_write else None)
                _log_tensorboard(run_dir, rows)
                unwrapped = model.module if world > 1 else model
                state = {
                    "step": done,
                    "model": unwrapped.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "sampler": sampler_states,
                    "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
                    "config": asdict(config),
                }
                atomic_write(checkpoint_path, lambda tmp, s=state: torch.save(s, tmp))
            first_write, rows = False, []  # every rank: logged rows are not kept
    progress.close()
    if world > 1:
        dist.barrier()
    if is_main:
        print(training_summary(run_dir / METRICS, config.batch_size))
    return run_dir


def _gather_objects(obj, world: int) -> list:
    if world == 1:
        return [obj]
    out = [None] * world
    dist.all_gather_object(out, obj)
    return out


def _supervised_loss(logits, labels, task_type: str):
    if task_type == "multilabel":
        return nn.functional.binary_cross_entropy_with_logits(logits, labels.float())
    return nn.functional.cross_entropy(logits, labels.long())


def _log_tensorboard(run_dir: Path, rows: list[dict]) -> None:
    """Mirror the per-step metrics rows to TensorBoard when it is installed (optional)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return
    with SummaryWriter(run_dir / "tensorboard") as writer:
        for row in rows:
            for name, value in row.items():
                if name != "step" and math.isfinite(value):
                    writer.add_scalar(name, value, row["step"])


def load_encoder(run_dir: str | os.PathLike, device: str | torch.device = "cpu") -> nn.Module:
    """Return the trained encoder of a run (projection head / classifier dropped), in eval mode."""
    config = load_config(run_dir)
    path = Path(run_dir) / CHECKPOINT
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: has the run in {run_dir} saved a checkpoint yet?")
    state = torch.load(path, map_location=device, weights_only=False)
    n_classes = state["model"]["classifier.weight"].shape[0] if config.objective == "supervised" else 0
    model = _build_model(config, n_classes)
    model.load_state_dict(state["model"])
    return model.encoder.to(device).eval()


def _parse_criterion(text: str) -> int | str:
    return "weighted" if text == "weighted" else int(text)


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _parse_pitch_shift(text: str) -> bool | str:
    return "auto" if text == "auto" else _parse_bool(text)


def _parse_workers(text: str) -> int | str:
    return "auto" if text == "auto" else int(text)


def build_parser() -> argparse.ArgumentParser:
    """One ``--flag`` per TrainConfig field; flags left out keep the preset's or the default value."""
    parser = argparse.ArgumentParser(prog="python -m semisup.train", description=__doc__.splitlines()[0])
    special = {"criterion": _parse_criterion, "num_workers": _parse_workers, "pitch_shift": _parse_pitch_shift}
    for f in dataclasses.fields(TrainConfig):
        kind = special.get(f.name) or (_parse_bool if f.type in (bool, "bool") else type(f.default))
        help_text = f"default: {f.default!r}"
        if f.name == "preset":
            help_text = f"start from a named set of fields ({', '.join(PRESETS)}); explicit flags override it"
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=kind, default=argparse.SUPPRESS,
                            help=help_text)
    return parser


def config_from_args(argv: list[str] | None = None) -> TrainConfig:
    """Parse CLI flags into a config: the preset's fields first, then every flag given."""
    explicit = vars(build_parser().parse_args(argv))
    preset = explicit.pop("preset", "")
    return TrainConfig.from_preset(preset, **explicit) if preset else TrainConfig(**explicit)


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    config = config_from_args(argv)
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(asdict(config), indent=2))
    train(config)


if __name__ == "__main__":
    main()
