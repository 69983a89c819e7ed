"""``make demo``: the short path through the notebooks on a laptop CPU.

1. build the ``small`` embedded benchmark into ``data/small`` (a no-op when it exists);
2. run ``02_pretrain`` twice — self-supervised, and semi-supervised with pitch labels
   (p_s = b_s = 0.5, no pitch shifting as in the paper's pitch model) — each followed by
   ``03_probe`` on every embedded task, as a papermill sweep into ``papermill_runs/demo/``;
3. run ``06_tsne`` on those two runs (t-SNE maps and kNN pitch-class accuracy);
4. print the probe table.

Everything is resumable: re-running skips finished steps.

    python -m semisup.demo [--steps 300] [--data-dir data/small] [--size small]
"""

from __future__ import annotations

import argparse
import time

from semisup.paths import repo_path
from semisup.probe import headline
from semisup.sweep import aggregate, execute, run_sweep

TASKS = ["task=notes&label=pitch", "task=notes&label=family", "task=key", "task=tags", "task=style"]


def demo_grid(steps: int, data_dir: str) -> dict:
    """Return the demo's sweep: SSL and pitch semi-supervised pretraining, each probed on all tasks."""
    return {
        "sweep": "demo",
        "notebooks": ["notebooks/02_pretrain.ipynb", "notebooks/03_probe.ipynb"],
        "base": {"labeled": f"embedded:{data_dir}?task=notes&label=pitch", "pitch_shift": False, "steps": steps,
                 "unlabeled": f"embedded:{data_dir}?task=unlabeled",
                 "tasks": [f"embedded:{data_dir}?{task}" for task in TASKS]},
        "grid": {"ps,bs": [[0.0, 0.0], [0.5, 0.5]]},
        "seeds": [123],
    }


def main(argv: list[str] | None = None) -> None:
    """Run the demo pipeline (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m semisup.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--data-dir", default="data/small")
    parser.add_argument("--size", default="small", choices=["tiny", "small", "full"])
    args = parser.parse_args(argv)
    start = time.perf_counter()

    from semisup.data.embedded.build import build

    data_dir = repo_path(args.data_dir)
    print(f"[1/3] embedded benchmark '{args.size}' in {data_dir}")
    build(args.size, data_dir, seed=0)

    print("[2/3] pretraining (SSL, pitch semi-supervised) and probes -> papermill_runs/demo/")
    ssl, pitch = run_sweep(demo_grid(args.steps, str(data_dir)), progress=True)

    print("[3/3] t-SNE and kNN pitch-class accuracy -> papermill_runs/demo/06_tsne.ipynb")
    execute("notebooks/06_tsne.ipynb", repo_path("papermill_runs/demo/06_tsne.ipynb"),
            {"ssl_run": str(ssl), "pitch_run": str(pitch), "labeled": f"embedded:{data_dir}?task=notes&label=pitch"})

    scores = headline(aggregate(repo_path("papermill_runs/demo")))
    print((100 * scores.pivot_table(index=["task", "metric"], columns="run", values="value")).round(1).to_string())
    print(f"done in {(time.perf_counter() - start) / 60:.1f} min; executed notebooks in papermill_runs/demo/")


if __name__ == "__main__":
    main()
