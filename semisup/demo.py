"""``make demo``: the short path through the notebooks on a laptop CPU.

1. build the ``small`` embedded benchmark into ``data/small`` (a no-op when it exists);
2. run ``02_pretrain`` twice, as Table 3 trains its two models: self-supervised (the whole
   chain, pitch shifting included) and semi-supervised with pitch labels (p_s = 1, no pitch
   shifting), the same steps, batch, encoder and chain otherwise — each followed by
   ``03_probe``, as a papermill sweep into ``papermill_runs/demo/``. The pitch model's
   b_s is 0.75, not Table 3's 0.5 (see ``PITCH_BS``; ``--pitch-bs`` changes it);
3. run ``06_tsne`` on each pair, into the pitch model's folder: t-SNE maps
   (``tsne_seed<S>.png``) and 5-NN pitch-class accuracy (``knn_seed<S>.csv``, added to
   ``results.csv`` as metric ``knn_pitch_class`` of the pitch task);
4. print the probe table, then pitch-probe and kNN accuracy with their ratios beside Table 3's.

Everything is resumable: re-running skips finished steps. With several ``--seeds`` the last
table gives mean ± sd over them (docs/getting-started.md quotes three).

    python -m semisup.demo [--steps 800] [--batch-size 32] [--pitch-bs 0.75] [--seeds 123]
                           [--tasks pitch family ...]
"""

from __future__ import annotations

import time

import pandas as pd

from semisup import cli
from semisup.data.spec import DatasetSpec
from semisup.paper import table3_pitch
from semisup.paths import atomic_write, repo_path
from semisup.probe import headline
from semisup.results import mean_sd
from semisup.sweep import aggregate, execute, expand_grid, load_grid, run_sweep

# Embedded tasks the demo can probe; the pitch task is always probed (it is the demo's point).
TASKS = {"pitch": "task=notes&label=pitch", "family": "task=notes&label=family", "key": "task=key",
         "tags": "task=tags", "style": "task=style"}
DEFAULT_TASKS = list(TASKS)
# Table 3: the self-supervised model keeps the whole chain; the pitch model (p_s = 1) trains
# without pitch shifting, which would blur the labels it learns from. Table 3's b_s = 0.5 of a
# 96-clip batch over NSynth's 112 pitches gives ~10 same-pitch pairs per batch; of the demo's
# 32 clips over 61 pitches it gives ~2, and b_s = 0.75 ~4.5 (measured effect: docs/getting-started.md).
PITCH_BS = 0.75


def models(pitch_bs: float = PITCH_BS) -> dict[str, list]:
    """Return the two models' ``[ps, bs, pitch_shift]``: self-supervised, and pitch semi-supervised."""
    return {"self-supervised": [0.0, 0.0, True], "semi-supervised (pitch)": [1.0, pitch_bs, False]}


MODELS = models()
KNN_METRIC = "knn_pitch_class"


def demo_grid(steps: int, data_dir: str, seeds: list[int], batch_size: int = 32,
              tasks: list[str] = DEFAULT_TASKS, pitch_bs: float = PITCH_BS) -> dict:
    """Return the demo's sweep: Table 3's SSL and pitch models per seed, each probed on ``tasks``."""
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        raise ValueError(f"unknown demo task(s) {unknown}; choose from {sorted(TASKS)}")
    tasks = ["pitch", *(task for task in tasks if task != "pitch")]
    return {
        "sweep": "demo",
        "notebooks": ["notebooks/02_pretrain.ipynb", "notebooks/03_probe.ipynb"],
        "base": {"labeled": pitch_spec(data_dir), "unlabeled": f"embedded:{data_dir}?task=unlabeled",
                 "steps": steps, "batch_size": batch_size,
                 "tasks": [f"embedded:{data_dir}?{TASKS[task]}" for task in tasks]},
        "grid": {"ps,bs,pitch_shift": list(models(pitch_bs).values())},
        "seeds": list(seeds),
    }


def pitch_spec(data_dir: str) -> str:
    """Return the dataset spec of the demo's pitch labels (and of its pitch probe)."""
    return f"embedded:{data_dir}?{TASKS['pitch']}"


def add_knn_rows(results: pd.DataFrame, knn: pd.DataFrame, runs: dict[str, str], task: str) -> pd.DataFrame:
    """Append each model's kNN pitch-class accuracy beside its run's probe rows.

    Parameters
    ----------
    results : pandas.DataFrame
        Tidy probe rows of the sweep (``run, task, metric, value`` and the run's parameters).
    knn : pandas.DataFrame
        ``06_tsne``'s table for one seed: ``model, knn_pitch_class_accuracy``.
    runs : dict
        Model name (as in ``knn``) -> run folder name (as in ``results["run"]``).
    task : str
        The pitch task's spec (the ``task`` of the new rows).

    Returns
    -------
    pandas.DataFrame
        ``results`` plus one row per model: ``task``, metric ``knn_pitch_class``, and the run's
        other columns (``bs``, ``ps``, ``seed`` ...) copied from its probe rows. A row already
        there for that run is replaced, never duplicated.
    """
    results = results[~((results["metric"] == KNN_METRIC) & results["run"].isin(runs.values()))]
    rows = []
    for model, accuracy in zip(knn["model"], knn["knn_pitch_class_accuracy"], strict=True):
        probe_rows = results[results["run"] == runs[model]]
        if probe_rows.empty:
            raise ValueError(f"no probe rows for run {runs[model]!r} of {model!r}: has 03_probe run on it?")
        rows.append(probe_rows.iloc[0].to_dict() | {"task": task, "metric": KNN_METRIC, "value": accuracy})
    return pd.concat([results, pd.DataFrame(rows)], ignore_index=True)


def pitch_summary(results: pd.DataFrame, task: str, pitch_bs: float = PITCH_BS) -> pd.DataFrame:
    """Pitch-probe and 5-NN pitch-class accuracy (%) of the two models and their ratio, beside Table 3.

    One value per seed is averaged; with several seeds each cell reads ``mean ± sd``.
    """
    paper = table3_pitch().set_index(["model", "task"])["value"]
    lines = []
    for measure, metric, paper_row in (("pitch probe accuracy", "accuracy", "pitch accuracy"),
                                       ("5-NN pitch-class accuracy", KNN_METRIC, None)):
        rows = results[(results["task"] == task) & (results["metric"] == metric)]
        by_model = {name: _rows_of(rows, setting).set_index("seed")["value"]
                    for name, setting in models(pitch_bs).items()}
        ssl, pitch = by_model.values()
        ratio = (pitch / ssl).dropna()
        line = {"measure": measure, **{name: mean_sd(values) for name, values in by_model.items()},
                "ratio": mean_sd(ratio, scale=1, digits=2), "seeds": len(ratio), "paper": "t-SNE only (Figure 4)"}
        if paper_row:
            before, after = paper["SSL", paper_row], paper["semi-sup pitch", paper_row]
            line["paper"] = f"{before:.1f} -> {after:.1f} ({after / before:.2f}x, Table 3)"
        lines.append(line)
    return pd.DataFrame(lines).set_index("measure")


def probe_table(results: pd.DataFrame, pitch_bs: float = PITCH_BS) -> pd.DataFrame:
    """Headline probe score (%) per task (by slug) and model; ``mean ± sd`` over several seeds."""
    scores = headline(results[results["metric"] != KNN_METRIC])
    scores = scores.assign(task=scores["task"].map(lambda spec: DatasetSpec.parse(spec).slug))
    return pd.DataFrame({name: _rows_of(scores, setting).groupby(["task", "metric"])["value"].apply(mean_sd)
                         for name, setting in models(pitch_bs).items()})


def _rows_of(table: pd.DataFrame, setting: list) -> pd.DataFrame:
    """Return the rows of ``table`` from runs trained with ``setting = [ps, bs, pitch_shift]``."""
    ps, bs, shift = setting
    return table[(table["ps"] == ps) & (table["bs"] == bs) & (table["pitch_shift"] == shift)]


def main(argv: list[str] | None = None) -> None:
    """Run the demo pipeline (see the module docstring)."""
    parser = cli.ArgumentParser(prog="python -m semisup.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--pitch-bs", type=float, default=PITCH_BS, help="b_s of the pitch model (Table 3: 0.5)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[123])
    parser.add_argument("--tasks", nargs="+", default=DEFAULT_TASKS, choices=sorted(TASKS),
                        help="embedded tasks to probe besides pitch")
    parser.add_argument("--data-dir", default="data/small")
    parser.add_argument("--root", default="papermill_runs", help="the demo writes into ROOT/demo")
    parser.add_argument("--size", default="small", choices=["tiny", "small", "full"])
    args = parser.parse_args(argv)
    start = time.perf_counter()
    from semisup.train import TrainConfig

    # Bad values fail here, in one line, not after the benchmark is built inside a notebook.
    for flag, field, value in (("--steps", "steps", args.steps), ("--batch-size", "batch_size", args.batch_size),
                               ("--pitch-bs", "bs", args.pitch_bs), ("--data-dir", "labeled", pitch_spec(args.data_dir))):
        try:
            TrainConfig(**{field: value})
        except ValueError as error:
            raise ValueError(f"{flag} {value}: {error}") from None
    grid = demo_grid(args.steps, args.data_dir, args.seeds, args.batch_size, args.tasks, args.pitch_bs)

    from semisup.data.embedded.build import build

    print(f"[1/3] embedded benchmark '{args.size}' in {repo_path(args.data_dir)}")
    build(args.size, repo_path(args.data_dir), seed=0)

    out = repo_path(args.root) / "demo"
    print(f"[2/3] pretraining (self-supervised, pitch semi-supervised; {args.steps} steps of {args.batch_size} "
          f"clips) and probes -> {out}/")
    folders = run_sweep(grid, root=out.parent, progress=True)

    print("[3/3] t-SNE and kNN pitch-class accuracy -> 06_tsne.ipynb in each pitch model's folder")
    task = pitch_spec(args.data_dir)
    results = aggregate(out)
    folder_of = {(tuple(params[key] for key in ("ps", "bs", "pitch_shift")), params["seed"]): folder
                 for (_, params), folder in zip(expand_grid(load_grid(grid)), folders, strict=True)}
    maps = []
    for seed in args.seeds:
        # The pair's map and kNN table live with the pitch model they show (other --pitch-bs, other folder).
        ssl, pitch = (folder_of[tuple(setting), seed] for setting in models(args.pitch_bs).values())
        execute("notebooks/06_tsne.ipynb", pitch / "06_tsne.ipynb",
                {"ssl_run": str(ssl), "pitch_run": str(pitch), "labeled": task, "seed": seed,
                 "pitch_bs": args.pitch_bs, "results_dir": str(pitch)})
        runs = dict(zip(MODELS, (ssl.name, pitch.name), strict=True))
        results = add_knn_rows(results, pd.read_csv(pitch / f"knn_seed{seed}.csv"), runs, task)
        maps.append(pitch / f"tsne_seed{seed}.png")
    atomic_write(out / "results.csv", lambda tmp: results.to_csv(tmp, index=False))

    this_run = results[results["run"].isin([folder.name for folder in folders])]
    print(probe_table(this_run, args.pitch_bs).to_string())
    print()
    print(pitch_summary(this_run, task, args.pitch_bs).to_string())
    print("t-SNE maps:", *maps, sep="\n  ")
    print(f"done in {(time.perf_counter() - start) / 60:.1f} min; executed notebooks and results.csv in {out}/")


if __name__ == "__main__":
    cli.run(main, "python -m semisup.demo")
