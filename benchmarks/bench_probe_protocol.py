"""The two probe protocols side by side on E1's models: scores per seed and what each costs.

E1 (docs/results.md, Table 3): the self-supervised model and the pitch semi-supervised one
(p_s = 1, b_s = 0.5, no pitch shifting), pretrained exactly as ``07_cross_task`` does under
``make results`` (same run folders, so finished runs are reused), each probed on the pitch
and tags tasks with the ``"averaged"`` protocol (track means everywhere) and the ``"crops"``
protocol (the authors': one random crop per track and epoch; semisup.probe). The averaged
protocol is probed first, so its time includes extracting every split's track means and the
crops protocol's time is the extra cost of its crop pools (test means come from the cache).

    python benchmarks/bench_probe_protocol.py [--data data/small] [--steps 1000] [--seeds 0 1 2]
        [--probe-seeds S ...] [--runs-root papermill_runs/results/runs] [--out protocols.csv]
        [--jobs 1] [--device auto] [--probe-only]

``--seeds`` are the pretraining seeds (each run probed with its own seed, as ``07`` does);
``--probe-seeds`` instead probes every run with each of these probe seeds (embeddings are
extracted once per run, so extra probe seeds cost only probe training). ``--probe-only``
probes the runs as they stand (their last checkpoint; the step is printed) without training.

Writes the tidy rows (with ``model``, ``probe_seconds``) to ``--out`` and prints per-seed
scores, mean ± sd per protocol and the crops − averaged difference.
"""

import argparse
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from semisup.evaluate import resolve_device
from semisup.paths import repo_path
from semisup.probe import PROTOCOLS, headline, probe_run
from semisup.results import mean_sd
from semisup.train import TrainConfig, default_run_dir, train


def e1_configs(data: str, steps: int, seeds: list[int], runs_root: str) -> dict[tuple[str, int], TrainConfig]:
    """``{(model, seed): TrainConfig}`` of E1's two models, as ``07_cross_task`` makes them."""
    pitch = f"embedded:{data}?task=notes&label=pitch"
    # pitch_shift="auto" (the default): the pitch model trains without it (Table 3, †), as in 07
    models = {"self-supervised": dict(ps=0.0, bs=0.0, labeled=pitch),
              "semi-supervised (pitch)": dict(ps=1.0, bs=0.5, labeled=pitch)}
    configs = {}
    for name, settings in models.items():
        for seed in seeds:
            config = TrainConfig(steps=steps, batch_size=32, encoder="small", seed=seed, num_workers=1,
                                 unlabeled=f"embedded:{data}?task=unlabeled", progress=False, **settings)
            config.run_dir = str(repo_path(default_run_dir(config, runs_root)))
            configs[name, seed] = config
    return configs


def main() -> None:
    """Pretrain (or reuse) E1's runs, probe them with both protocols, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/small")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs-root", default="papermill_runs/results/runs")
    parser.add_argument("--out", default="protocols.csv")
    parser.add_argument("--probe-seeds", type=int, nargs="+", help="probe seeds (default: each run's own)")
    parser.add_argument("--jobs", type=int, default=1, help="pretraining runs at once (a GPU has room for several)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--probe-only", action="store_true", help="probe the runs' last checkpoints, no training")
    args = parser.parse_args()
    configs = e1_configs(args.data, args.steps, args.seeds, args.runs_root)
    for config in configs.values():
        config.device = args.device
    start = time.perf_counter()
    if args.probe_only:
        runs = {key: Path(config.run_dir) for key, config in configs.items()}
        for key, run in runs.items():
            print(f"{key}: {run.name} at step {pd.read_csv(run / 'metrics.csv')['step'].max() + 1} of {args.steps}")
    else:
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            runs = dict(zip(configs, pool.map(train, configs.values()), strict=True))
        print(f"pretraining: {len(runs)} runs in {time.perf_counter() - start:.0f} s ({args.jobs} at once)")
    tasks = [f"embedded:{args.data}?task=notes&label=pitch", f"embedded:{args.data}?task=tags"]
    device = str(resolve_device(args.device))
    tables = []
    for (name, seed), run in runs.items():
        for probe_seed in args.probe_seeds or [seed]:
            for protocol in ("averaged", "crops"):  # averaged first: it extracts the shared test means
                start = time.perf_counter()
                table = probe_run(run, tasks, seed=probe_seed, protocol=protocol, device=device, workers="auto",
                                  progress=False)
                tables.append(table.assign(model=name, pretrain_seed=seed, probe_seconds=time.perf_counter() - start))
    rows = pd.concat(tables, ignore_index=True)
    rows.to_csv(args.out, index=False)
    scores = headline(rows)
    per_seed = 100 * scores.pivot_table(index=["model", "task", "pretrain_seed", "seed"], columns="protocol",
                                        values="value")
    print(per_seed.round(1).to_string())
    print("\nmean ± sd over seeds (%):")
    for (model, task), group in scores.groupby(["model", "task"]):
        by = {p: group[group["protocol"] == p].set_index(["pretrain_seed", "seed"])["value"] for p in PROTOCOLS}
        print(f"{model:24s} {task.split('?')[-1]:22s} averaged {mean_sd(by['averaged'])}  crops {mean_sd(by['crops'])}"
              f"  crops - averaged {mean_sd(by['crops'] - by['averaged'])}")
    first = rows[rows["seed"] == rows.groupby(["model", "pretrain_seed"])["seed"].transform("first")]
    cost = first.drop_duplicates(["model", "pretrain_seed", "protocol"]).groupby("protocol")["probe_seconds"]
    print("\nseconds per run (both tasks, first probe seed: averaged extracts every split's means, crops "
          "the train/valid pools), mean:", cost.mean().round(1).to_dict())
    print(f"rows in {Path(args.out).resolve()}")


if __name__ == "__main__":
    main()
