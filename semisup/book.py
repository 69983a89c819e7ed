"""``make book``: the manual (``docs/``) and the demo's executed notebooks as a static HTML site.

Conventions
-----------
- Sources: ``docs/`` (MyST Markdown and Sphinx's ``conf.py``) plus the notebooks as
  ``make demo`` executed them: ``02_pretrain``, ``03_probe`` and ``06_tsne`` of the pitch
  semi-supervised model of the lowest seed, i.e. the run folder of ``papermill_runs/demo/``
  holding ``06_tsne.ipynb``. Both are copied into one temporary source folder, so ``docs/``
  gets no generated files and ``notebooks/`` stays committed without outputs.
- Nothing is executed: myst-nb shows the saved outputs (figures, audio players, tables).
- MathJax is copied into the site (``_static/mathjax``): pages typeset their equations offline.
- Warnings fail the build (``sphinx-build -W``); the finished site replaces ``OUT/html`` in
  one rename, so a failed build leaves the previous site as it was.

    python -m semisup.book [--demo papermill_runs/demo] [--docs docs] [--out _build/book]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from semisup.paths import repo_path

# The notebooks `make demo` executes into the pitch model's run folder, in course order.
DEMO_NOTEBOOKS = ("02_pretrain.ipynb", "03_probe.ipynb", "06_tsne.ipynb")


def demo_run(demo_dir: str | os.PathLike) -> Path:
    """Return the pitch model's run folder of the lowest seed among a demo's outputs.

    ``make demo`` writes ``06_tsne.ipynb`` into each pitch model's folder only (one per seed),
    so that file marks the folder; its seed is read from the sweep's ``params.json``.
    """
    demo_dir = Path(demo_dir)
    runs = [path.parent for path in demo_dir.glob("*/06_tsne.ipynb")]
    if not runs:
        raise FileNotFoundError(f"no executed demo notebooks in {demo_dir} (no */06_tsne.ipynb): "
                                "run `make demo` first")
    return min(runs, key=lambda run: (json.loads((run / "params.json").read_text())["parameters"]["seed"],
                                      run.name))


def mathjax_dir() -> Path:
    """Return the folder of MathJax 2.7 that ``jupyter-server-mathjax`` ships (``MathJax.js`` in it).

    The book serves it itself (``docs/conf.py``'s ``mathjax_path``), so its equations are
    typeset without a network.
    """
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).parent / "static"


def stage(docs_dir: str | os.PathLike, demo_dir: str | os.PathLike, src_dir: str | os.PathLike) -> Path:
    """Copy ``docs_dir`` and the demo's executed notebooks into ``src_dir`` (created); return it.

    The notebooks land in ``src_dir/notebooks/``, where ``docs/index.md``'s toctree expects them.
    """
    docs_dir, src_dir = Path(docs_dir), Path(src_dir)
    if not (docs_dir / "conf.py").exists():
        raise FileNotFoundError(f"{docs_dir} holds no conf.py: pass the repository's docs/ folder")
    run = demo_run(demo_dir)
    missing = [name for name in DEMO_NOTEBOOKS if not (run / name).exists()]
    if missing:
        raise FileNotFoundError(f"{run} lacks {missing}: has `make demo` finished?")
    shutil.copytree(docs_dir, src_dir, ignore=shutil.ignore_patterns("_build", "__pycache__"))
    shutil.copytree(mathjax_dir(), src_dir / "_static" / "mathjax")
    (src_dir / "notebooks").mkdir()
    for name in DEMO_NOTEBOOKS:
        shutil.copy2(run / name, src_dir / "notebooks" / name)
    return src_dir


def build(docs_dir: str | os.PathLike = "docs", demo_dir: str | os.PathLike = "papermill_runs/demo",
          out_dir: str | os.PathLike = "_build/book") -> Path:
    """Build the book into ``out_dir/html``; return the path of its ``index.html``.

    Raises ``RuntimeError`` when Sphinx reports an error or a warning (the previous site, if
    any, is kept).
    """
    from sphinx.cmd.build import build_main

    out_dir = repo_path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html = out_dir / "html"
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        src = stage(repo_path(docs_dir), repo_path(demo_dir), Path(tmp) / "src")
        new = Path(tmp) / "html"
        status = build_main(["-W", "--keep-going", "-q", "-b", "html", "-d", str(Path(tmp) / "doctrees"),
                             str(src), str(new)])
        if status != 0:
            raise RuntimeError(f"sphinx-build failed (exit {status}; warnings count as errors, listed above); "
                               f"{html} is unchanged")
        old = Path(tmp) / "old-html"
        if html.exists():
            html.rename(old)
        new.rename(html)
    return html / "index.html"


def main(argv: list[str] | None = None) -> None:
    """Build the book (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m semisup.book", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", default="docs", help="the manual's sources (with conf.py)")
    parser.add_argument("--demo", default="papermill_runs/demo", help="`make demo`'s output folder")
    parser.add_argument("--out", default="_build/book", help="the site goes to OUT/html")
    args = parser.parse_args(argv)
    print(f"book: building {repo_path(args.out) / 'html'} from {args.docs}/ and {args.demo}/ (about a minute)")
    try:
        index = build(args.docs, args.demo, args.out)
    except (FileNotFoundError, RuntimeError) as error:  # no demo outputs yet, or Sphinx warned
        raise SystemExit(f"book: {error}") from None
    print(f"book: {index}")


if __name__ == "__main__":
    main()
