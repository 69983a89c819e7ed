"""The paper's effects measured on the embedded benchmark (docs/results.md).

    python -m semisup.results [--steps 1000] [--seeds 0 1 2]
        [--pitch SPEC] [--tags SPEC] [--unlabeled SPEC]

Executes the notebooks with result-sized parameters into ``papermill_runs/results/`` and
summarises four effects, each over several seeds, beside the paper's numbers. The data are
three dataset specs: pitch labels (NSynth pitch in the paper; default the embedded
``notes`` pitch task), tags (MTAT top-50; default the embedded ``tags``) and an unlabeled
pool (FMA; default the embedded ``unlabeled``):

- **E1** (Table 3): pitch-supervised semi-supervised vs self-supervised: pitch probe accuracy
  (expected gain ≥ 10 points) and tags ROC-AUC (expected within 1 point) — ``07_cross_task``;
- **E2** (Table 2, Figure 2): tags ROC-AUC for p_s = b_s ∈ {0, 0.1, 0.5, 1} — ``04_ablations``;
- **E3** (Figure 3): ROC-AUC lost from clean audio to severity 4, contrastive models vs the
  end-to-end baseline — ``05_robustness``;
- **E4** (Figure 4): kNN pitch-class accuracy, pitch model vs SSL — ``06_tsne``.

Runs are shared between notebooks and resumed, so an interrupted call continues where it
stopped. The summary goes to ``papermill_runs/results/RESULTS.md`` and to stdout.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from semisup import cli
from semisup.data.spec import DatasetSpec
from semisup.paths import atomic_write, repo_path
from semisup.sweep import execute

__all__ = ["run_notebooks", "summarise", "mean_sd", "main"]


DEFAULT_SPECS = {
    "pitch": "embedded:data/small?task=notes&label=pitch",
    "tags": "embedded:data/small?task=tags",
    "unlabeled": "embedded:data/small?task=unlabeled",
}


def _execute(name: str, out: Path, parameters: dict) -> None:
    execute(f"notebooks/{name}.ipynb", out / f"{name}.ipynb", parameters)


def run_notebooks(out: Path, specs: dict[str, str], steps: int, seeds: list[int], batch_size: int = 32) -> None:
    """Execute 07, 06 (per seed), 05 and 04 with shared runs under ``out``.

    ``specs`` maps ``"pitch"``, ``"tags"`` and ``"unlabeled"`` to dataset specs.
    """
    common = {"steps": steps, "batch_size": batch_size, "runs_root": str(out / "runs"), "results_dir": str(out),
              "unlabeled": specs["unlabeled"]}
    _execute("07_cross_task", out, {**common, "labeled": [specs["pitch"]],
                                    "probe_tasks": [specs["pitch"], specs["tags"]], "seeds": seeds})
    for seed in seeds:  # reuses 07's self-supervised and pitch runs
        _execute("06_tsne", out / f"seed{seed}", {**common, "labeled": specs["pitch"], "seed": seed})
    _execute("05_robustness", out, {**common, "labeled": specs["tags"], "seeds": seeds})
    _execute("04_ablations", out, {"steps": steps, "batch_size": batch_size, "seeds": seeds, "sweeps": ["ps_bs"],
                                   "labeled": specs["tags"], "unlabeled": specs["unlabeled"],
                                   "probe_tasks": [specs["tags"]], "runs_root": str(out / "sweeps")})


def mean_sd(values: pd.Series, scale: float = 100.0, digits: int = 1) -> str:
    """``"m ± sd"`` of ``scale * values`` (sample sd); ``"m"`` for a single value."""
    values = scale * values
    if len(values) < 2:
        return f"{values.mean():.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def summarise(out: Path, specs: dict[str, str]) -> str:
    """Compute E1–E4 from the tables the notebooks saved; return a Markdown report.

    ``specs`` are the dataset specs the notebooks ran with (see :func:`run_notebooks`).
    """
    from semisup.probe import protocol_of

    pitch, tags = specs["pitch"], specs["tags"]
    pitch_model = DatasetSpec.parse(pitch).slug
    lines = ["| effect | measure | ours (mean ± sd over seeds, %) | paper (%) | holds? |", "|---|---|---|---|---|"]
    cross = pd.read_csv(out / "cross_task.csv")
    sweep = pd.read_csv(out / "sweeps" / "ps_bs" / "results.csv")
    robust = pd.read_csv(out / "robustness.csv")
    # One probe protocol for every effect (runs probed before the "crops" default are refused).
    protocol = protocol_of(pd.concat([cross, sweep, robust], ignore_index=True), f"the result tables in {out}")

    def score(model, task, metric):
        rows = cross[(cross["model"] == model) & (cross["task"] == task) & (cross["metric"] == metric)]
        return rows.set_index("seed")["value"]

    ssl_pitch, semi_pitch = score("self-supervised", pitch, "accuracy"), score(pitch_model, pitch, "accuracy")
    ssl_tags, semi_tags = score("self-supervised", tags, "auroc"), score(pitch_model, tags, "auroc")
    control_pitch = score("self-supervised, no pitch shift", pitch, "accuracy")
    pitch_gain = 100 * (semi_pitch - ssl_pitch)
    tags_change = 100 * (semi_tags - ssl_tags)
    lines += [
        (f"| E1 | pitch probe accuracy: SSL → pitch semi-sup | {mean_sd(ssl_pitch)} → {mean_sd(semi_pitch)} "
        f"(gain {pitch_gain.mean():+.1f}) | 36.8 → 79.0 | {'yes' if pitch_gain.mean() >= 10 else 'no'} (≥ +10) |"),
        (f"| E1 | tags ROC-AUC: SSL → pitch semi-sup | {mean_sd(ssl_tags)} → {mean_sd(semi_tags)} "
        f"(change {tags_change.mean():+.1f}) | 88.4 → 88.3 | {'yes' if abs(tags_change.mean()) <= 1 else 'no'} (within 1) |"),
    ]
    if len(control_pitch):
        lines.append(f"| E1 control | pitch probe accuracy, SSL without pitch shifting | {mean_sd(control_pitch)} | "
                     f"— | labels add {100 * (semi_pitch - control_pitch).mean():+.1f} over it |")
    by_ps = sweep[(sweep["task"] == tags) & (sweep["metric"] == "auroc")].groupby("ps")["value"]
    means = by_ps.mean()
    steps = 100 * means.diff().dropna()
    falls = [f"{a:g} → {b:g} ({d:+.1f})" for a, b, d in zip(means.index[:-1], means.index[1:], steps, strict=True) if d <= 0]
    overall = 100 * (means.iloc[-1] - means.iloc[0])
    verdict = ("yes (rises at every step)" if not falls else
               f"no: {means.index[0]:g} → {means.index[-1]:g} {overall:+.1f}, but falls at {', '.join(falls)}")
    ours = ", ".join(f"{ps:g}: {mean_sd(v)}" for ps, v in by_ps)
    lines.append(f"| E2 | tags ROC-AUC at p_s = b_s | {ours} | 0: 88.8, 0.1: 89.5, 0.5: 89.7, 1: 90.3 | {verdict} |")
    robust = robust[(robust["metric"] == "auroc") & robust["severity"].notna()]
    worst = robust["severity"].max()
    per_seed = robust.pivot_table(index=["model", "seed"], columns="severity", values="value")
    drop = per_seed[0.0] - per_seed[worst]
    drops = drop.groupby("model")
    e2e = drops.mean()["end-to-end"]
    contrastive = drops.mean().drop("end-to-end")
    ours = ", ".join(f"{m}: {mean_sd(d)}" for m, d in drops)
    lines.append(f"| E3 | ROC-AUC drop, clean → severity {worst:g} (points) | {ours} | contrastive < end-to-end "
                 f"(Figure 3) | {'yes' if (contrastive < e2e).all() else 'no'} |")
    knn = pd.concat([pd.read_csv(p) for p in sorted(out.glob("knn_seed*.csv"))], ignore_index=True)
    by_model = knn.groupby("model")["knn_pitch_class_accuracy"]
    ssl_knn, pitch_knn = by_model.get_group("self-supervised"), by_model.get_group("semi-supervised (pitch)")
    lines.append(f"| E4 | kNN pitch-class accuracy: SSL → pitch semi-sup | {mean_sd(ssl_knn)} → {mean_sd(pitch_knn)} | "
                 f"(t-SNE, Figure 4) | {'yes' if pitch_knn.mean() > ssl_knn.mean() else 'no'} |")
    lines.append(f"\nprobe protocol: `{protocol}` (semisup.probe)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """CLI: run the notebooks, then print and save the summary."""
    parser = cli.ArgumentParser(prog="python -m semisup.results", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batch-size", type=int, default=32)
    for name, spec in DEFAULT_SPECS.items():
        parser.add_argument(f"--{name}", default=spec, help=f"dataset spec (default {spec})")
    parser.add_argument("--out", default="papermill_runs/results")
    parser.add_argument("--summarise-only", action="store_true")
    args = parser.parse_args(argv)
    specs = {name: getattr(args, name) for name in DEFAULT_SPECS}
    for name, spec in specs.items():  # a bad spec fails now, not inside a notebook
        try:
            DatasetSpec.parse(spec)
        except ValueError as error:
            raise ValueError(f"--{name} {spec!r}: {error}") from None
    out = repo_path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if not args.summarise_only:
        run_notebooks(out, specs, args.steps, args.seeds, args.batch_size)
    report = summarise(out, specs)
    minutes = (time.perf_counter() - start) / 60
    # Finished runs are reused, so this invocation's time is not the cost of a cold rerun.
    timing = "" if args.summarise_only else f" ({minutes:.0f} min for this invocation; finished runs were reused)"
    text = (f"{report}\n\ndata {', '.join(f'{k} `{v}`' for k, v in specs.items())}; encoder `small`, "
            f"{args.steps} steps × batch {args.batch_size}, seeds {args.seeds}; "
            f"`python -m semisup.results --steps {args.steps}`{timing}\n")
    atomic_write(out / "RESULTS.md", lambda tmp: Path(tmp).write_text(text))
    print(text)


if __name__ == "__main__":
    cli.run(main, "python -m semisup.results")
