"""Evaluate any encoder on any dataset spec: frozen-encoder probes from the shell (Sec. 4.3, 5.2).

Usage::

    python -m semisup.evaluate runs/paper --task "mtat:/data/MTAT?subset=top50" \
        --task "nsynth:/data/nsynth?label=pitch" --out results.csv
    python -m semisup.evaluate --random-init small --seed 0 --task "embedded:data/small?task=key"
    python -m semisup.evaluate (RUN_DIR | --random-init ENCODER) --task SPEC [--task SPEC ...]
        [--out CSV] [--workers N|auto] [--max-epochs N] [--seed S] [--max-crops 64]
        [--protocol crops|averaged] [--cache-dir DIR] [--device auto|cpu|cuda] [--no-progress]

The frozen encoder of a pretraining run (projection head discarded), or a randomly
initialised one (``--random-init``, the untrained baseline, its weights drawn from
``--seed``), is probed on each dataset spec, raw or prepared, with the dataset's Table 5
settings (:func:`semisup.probe.probe_config`) and the authors' protocol
(:func:`semisup.probe.probe_run`): an MLP or linear probe trained on one random crop per
track and epoch, early-stopped on the validation loss of one random crop per valid track,
and scored on the test tracks' mean embedding over ≤ 64 non-overlapping crops.
``--protocol averaged`` trains and validates on those track means instead.

Conventions
-----------
- Rows are tidy, ``run, checkpoint, task, metric, value, seed, protocol``: ``run`` is the
  run folder's name or ``random-init-<encoder>``, ``task`` the spec string, ``seed`` the
  probe's (and the random initialisation's). Each task's rows are appended to ``--out`` atomically as soon
  as it is done, so an interrupted evaluation keeps the finished tasks and existing rows.
- The printed headline table gives one metric per task (:func:`semisup.probe.headline`) in
  %, beside the score of a guess that ignores the audio (:func:`semisup.metrics.chance_level`)
  and the number of files skipped.
- Bad files: unreadable or empty files are left out with a warning naming each, counted in
  ``n_skipped_<split>`` rows and listed (``path, reason``) in ``<out>_skipped.csv`` beside
  ``--out``; a missing file is an error naming it (or drop missing files when loading:
  ``mtat:/data/MTAT?missing=drop``).
- Every spec is loaded before any audio is decoded, so a wrong path fails at once.
- ``RUN_DIR`` may also be a folder written by ``python -m semisup.export``.
- Embeddings are cached in ``RUN_DIR/embeddings`` (a random initialisation or an exported
  folder: in ``$SEMISUP_CACHE_DIR/embeddings``, default ``~/.cache/semisup/embeddings``), keyed by the
  weights, the files (path, size, mtime) and the crop settings (see :mod:`semisup.extract`);
  ``--out`` never mixes protocols (:func:`semisup.probe.append_results`).
- Decoding runs in ``--workers`` DataLoader processes (``auto``: one on a CPU, the cores
  less one on a GPU); the numbers do not depend on it. ``--device auto`` runs the encoder on
  CUDA when available.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from semisup import cli
from semisup.data.audio import SkippedFiles
from semisup.data.spec import DatasetSpec
from semisup.encoders import ENCODER_CONFIGS, random_encoder
from semisup.hub import is_export
from semisup.metrics import chance_level
from semisup.paths import atomic_write, cache_root
from semisup.probe import PROTOCOLS, headline, probe_run
from semisup.train import _parse_workers, load_encoder

__all__ = ["resolve_device", "frozen_encoder", "summary", "write_skipped", "main"]


def resolve_device(device: str) -> torch.device:
    """Return the device ``device`` names; ``"auto"`` is CUDA when available, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def frozen_encoder(run_dir: str | os.PathLike | None, random_init: str | None, seed: int,
                   device: str = "auto") -> tuple[nn.Module, str, Path]:
    """Return ``(encoder, run name, default cache folder)`` for a run or a random initialisation.

    Exactly one of ``run_dir`` (a run of :mod:`semisup.train`, or a folder written by
    :mod:`semisup.export`) and ``random_init`` (an encoder name, weights drawn from ``seed``:
    :func:`semisup.encoders.random_encoder`) must be given. An exported folder's embeddings
    are cached under :func:`semisup.paths.cache_root`, not inside the folder one shares.
    """
    if (run_dir is None) == (random_init is None):
        raise ValueError("give a run directory or random_init=<encoder name> (exactly one of them), got "
                         f"run_dir={run_dir!r}, random_init={random_init!r}")
    target = resolve_device(device)
    if random_init is not None:
        if random_init not in ENCODER_CONFIGS:
            raise ValueError(f"random_init={random_init!r}: choose one of {sorted(ENCODER_CONFIGS)}")
        return random_encoder(random_init, seed, target), f"random-init-{random_init}", cache_root() / "embeddings"
    run = Path(run_dir).resolve()
    cache = cache_root() / "embeddings" if is_export(run) else run / "embeddings"
    return load_encoder(run, target), run.name, cache


def summary(table: pd.DataFrame, datasets: dict) -> pd.DataFrame:
    """One row per task: its headline metric in %, the chance level in % and the files skipped.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`semisup.probe.probe_run`.
    datasets : dict
        ``{task spec: AudioDataset}``, for the chance levels (test labels, classes).

    Returns
    -------
    pandas.DataFrame
        Columns ``task`` (the spec's slug), ``metric``, ``score %``, ``chance %`` (NaN where
        undefined), ``skipped`` (files left out, all splits).
    """
    rows = []
    for row in headline(table).itertuples():
        dataset = datasets[row.task]
        chance = chance_level(row.metric, dataset.subset("test").labels, dataset.classes)
        counts = table[(table["task"] == row.task) & table["metric"].str.startswith("n_skipped_")]
        rows.append({"task": DatasetSpec.parse(row.task).slug, "metric": row.metric,
                     "score %": round(100 * row.value, 1),
                     "chance %": float("nan") if chance is None else round(100 * chance, 1),
                     "skipped": int(counts["value"].sum())})
    return pd.DataFrame(rows, columns=["task", "metric", "score %", "chance %", "skipped"])


def write_skipped(path: str | os.PathLike, skipped: SkippedFiles) -> None:
    """Add the skipped files (``path, reason``) to the CSV at ``path`` atomically (one row per file)."""
    path = Path(path)
    new = pd.DataFrame({"path": list(skipped.reasons), "reason": list(skipped.reasons.values())})
    table = pd.concat([pd.read_csv(path), new], ignore_index=True) if path.exists() else new
    table = table.drop_duplicates("path", keep="last")
    atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser (flags in the module docstring)."""
    parser = cli.ArgumentParser(prog="python -m semisup.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", help="a run directory of semisup.train or a folder of semisup.export")
    parser.add_argument("--random-init", choices=sorted(ENCODER_CONFIGS),
                        help="probe a randomly initialised encoder (weights from --seed) instead of a run")
    parser.add_argument("--task", action="append", required=True, metavar="SPEC",
                        help="dataset spec with train/valid/test splits, e.g. 'mtat:/data/MTAT?subset=top50' "
                             "(repeat for several)")
    parser.add_argument("--out", help="append the result rows to this CSV (atomically)")
    parser.add_argument("--workers", type=_parse_workers, default="auto",
                        help="DataLoader processes decoding audio (0: in this process; default auto)")
    parser.add_argument("--max-epochs", type=int, help="cap on probe epochs (default: each task's own, the authors' configs; early stopping)")
    parser.add_argument("--seed", type=int, default=123, help="probe seed, and the random initialisation's")
    parser.add_argument("--max-crops", type=int, default=64, help="crops per track (default 64, as the paper)")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="crops",
                        help="crops (default, the authors'): train/valid on one random crop per track and epoch; "
                             "averaged: on the mean of <= 64 crops per track")
    parser.add_argument("--cache-dir", help="embedding cache (default RUN_DIR/embeddings)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:1 ...")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> pd.DataFrame:
    """CLI: probe, append the rows to ``--out``, print the headline table; return the rows."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.run_dir is None) == (args.random_init is None):
        parser.error("give RUN_DIR or --random-init ENCODER (exactly one of them)")
    loaded = [DatasetSpec.parse(task).load() for task in args.task]  # bad specs fail before decoding
    datasets = {dataset.info["spec"]: dataset for dataset in loaded}
    encoder, run_name, cache_dir = frozen_encoder(args.run_dir, args.random_init, args.seed, args.device)
    skipped = SkippedFiles()
    tables = [probe_run(encoder, [dataset], seed=args.seed, results_csv=args.out,
                        cache_dir=args.cache_dir or cache_dir, max_epochs=args.max_epochs,
                        max_crops=args.max_crops, protocol=args.protocol, workers=args.workers, skipped=skipped,
                        run_name=run_name, progress=not args.no_progress)
              for dataset in datasets.values()]
    table = pd.concat(tables, ignore_index=True)
    print(f"{run_name} (checkpoint {table['checkpoint'].iloc[0]}, seed {args.seed}):")
    print(summary(table, datasets).to_string(index=False))
    if len(skipped):
        print(skipped.summary())
        if args.out:
            listing = Path(args.out).with_name(f"{Path(args.out).stem}_skipped.csv")
            write_skipped(listing, skipped)
            print(f"skipped files listed in {listing}")
    if args.out:
        print(f"{len(table)} rows appended to {args.out}")
    return table


if __name__ == "__main__":
    cli.run(main, "python -m semisup.evaluate")
