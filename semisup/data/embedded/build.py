"""Build the embedded benchmark: real GM SoundFont samples x real music21 scores.

``python -m semisup.data.embedded.build --size small --out data/small`` renders the five tasks that
stand in for the paper's datasets (Sec. 4.1): ``unlabeled`` (FMA), ``notes`` (NSynth
pitch/instrument), ``key`` (GiantSteps), ``tags`` (MagnaTagATune) and ``style`` (GTZAN).

Conventions
-----------
- Layout (the contract every loader reads)::

      <out>/meta.json
      <out>/<task>/manifest.csv        path, split, duration_s, label columns, meta_* columns
      <out>/<task>/audio/<clip_id>.wav  mono 16-bit PCM at --sample-rate (22 050 Hz)

  Label columns: notes ``pitch`` (MIDI number), ``instrument`` (GM program name),
  ``family`` (GM family); key ``key`` (mir_eval name with flats); tags ``tags`` ("|"-joined);
  style ``style`` (collection). ``meta.json`` lists each task's classes per label field.
- Deterministic: the same size, seed, sample rate and SoundFont give identical manifests and
  identical WAV bytes, whatever ``--workers`` (every clip's randomness is keyed by the seed,
  the task and the clip index; see :mod:`semisup.data.embedded.tasks`).
- Atomic: everything is written into ``<out parent>/.<out name>.partial-<pid>/`` and renamed
  to ``<out>`` at the very end, so an interrupted build never leaves a manifest pointing at
  missing files (stale partial folders of dead builds are removed by the next build).
- Idempotent: when ``<out>/meta.json`` records the same settings and every listed file is
  there, the build returns at once. Different settings need ``--force``.
- Bad input (unknown size, missing or corrupt SoundFont, bad sample rate/seed/workers)
  raises ``ValueError`` before anything is written.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import sys
import time
from collections import Counter
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from semisup.data.embedded import corpus, gm, render, tasks
from semisup.data.embedded.tasks import SIZES, TASKS, ClipSpec
from semisup.data.keys import KEY_CLASSES
from semisup.progress import progress_bar

__all__ = ["build", "main", "BUILD_VERSION", "is_complete"]

BUILD_VERSION = 2  # bump when the output changes for the same settings
DEFAULT_SAMPLE_RATE = 22050
DEFAULT_SEED = 0

# Per-process state of the worker pool (set by _init_worker, or lazily in-process).
_WORKER: dict = {}


def _init_worker(soundfont_path: str, soundfont_sha256: str, sample_rate: int) -> None:
    _WORKER.clear()
    _WORKER.update(path=soundfont_path, sha256=soundfont_sha256, sample_rate=sample_rate)


def _renderer() -> render.Renderer:
    if "renderer" not in _WORKER:
        font = render.load_soundfont(_WORKER["path"])
        if font.sha256 != _WORKER["sha256"]:
            raise RuntimeError(f"SoundFont {_WORKER['path']} changed during the build")
        _WORKER["renderer"] = render.Renderer(font, _WORKER["sample_rate"])
    return _WORKER["renderer"]


def _parse_job(ref: corpus.WorkRef) -> corpus.Work | None:
    return corpus.load_work(ref)


def _render_job(job: tuple[str, ClipSpec]) -> tuple[str, str | None]:
    """Render, normalise, check and (if fine) write one clip; returns (clip_id, reason)."""
    folder, spec = job
    renderer = _renderer()
    # single notes get a release however short the preset's (their note-off is inside the clip)
    release_s = render.MIN_RELEASE_SECONDS if spec.pitch is not None else 0.0
    audio = renderer.render(list(spec.tracks), spec.n_samples, min_release_s=release_s)
    if float(np.max(np.abs(audio))) < render.SILENCE_PEAK:
        return spec.clip_id, "silent"
    audio = render.normalise_peak(audio)
    reason = render.check_audio(audio, renderer.sample_rate, spec.pitch)
    if reason is None:
        sf.write(os.path.join(folder, f"{spec.clip_id}.wav"), audio, renderer.sample_rate,
                 subtype="PCM_16")
    return spec.clip_id, reason


def _settings(size: str, seed: int, sample_rate: int, font: render.SoundFont) -> dict:
    return {"size": size, "seed": seed, "sample_rate": sample_rate,
            "soundfont_sha256": font.sha256, "build_version": BUILD_VERSION}


def is_complete(out: str | os.PathLike, settings: dict | None = None) -> bool:
    """Whether ``out`` holds a finished build (with these ``settings``, when given)."""
    out = Path(out)
    try:
        meta = json.loads((out / "meta.json").read_text())
    except (OSError, json.JSONDecodeError):
        return False
    if settings is not None and meta.get("build", {}).get("settings") != settings:
        return False
    for task, info in meta.get("tasks", {}).items():
        manifest = out / task / "manifest.csv"
        if not manifest.is_file():
            return False
        paths = pd.read_csv(manifest, dtype=str, keep_default_na=False)["path"]
        if len(paths) != info.get("n_clips") or \
                not all((out / task / p).is_file() for p in paths):
            return False
    return True


def _check_args(size, seed, sample_rate, workers) -> None:
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {sorted(SIZES)} "
                         f"(tiny for tests, small for the demo, full for paper-like counts)")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) \
            or not 8000 <= sample_rate <= 48000:
        raise ValueError(f"sample_rate must be an integer number of Hz in [8000, 48000], got "
                         f"{sample_rate!r} (the paper uses 22050)")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValueError(f"workers must be a positive integer or None (all cores), got "
                         f"{workers!r}")


def _remove_stale_partials(out: Path) -> None:
    """Delete ``.<name>.partial-<pid>`` folders left by builds whose process is gone."""
    for folder in out.parent.glob(f".{out.name}.partial-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        alive = pid.isdigit() and _pid_alive(int(pid))
        if not alive:
            shutil.rmtree(folder, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("semisup", "music21", "tinysoundfont", "pretty_midi", "numpy", "soundfile"):
        try:
            out[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            out[package] = "unknown"
    return out


def _works_pools(pools_refs: dict, parsed: dict[str, corpus.Work | None]) -> dict:
    """Replace the refs of each pool by the parsed works (failed parses left out)."""
    return {split: {c: [parsed[r.work_id] for r in refs if parsed.get(r.work_id) is not None]
                    for c, refs in by_collection.items()}
            for split, by_collection in pools_refs.items()}


def build(size: str = "small", out: str | os.PathLike = "data/small", seed: int = DEFAULT_SEED,
          soundfont: str | os.PathLike | None = None, workers: int | None = None,
          sample_rate: int = DEFAULT_SAMPLE_RATE, force: bool = False,
          progress: bool = True) -> Path:
    """Build the embedded benchmark of ``size`` into ``out`` (see the module docstring).

    Parameters
    ----------
    size : {"tiny", "small", "full"}
        Clip counts, see :data:`semisup.data.embedded.tasks.SIZES`.
    out : path-like
        Output folder (created; its parent must be writable).
    seed : int
        Seed of every random choice (splits, excerpts, instruments, tempi...).
    soundfont : path-like or None
        General MIDI ``.sf2``; None = TimGM6mb.sf2 shipped with pretty_midi.
    workers : int or None
        Processes for parsing and rendering; None = all CPU cores. The output does not
        depend on it.
    sample_rate : int
        Hz of the WAV files.
    force : bool
        Replace an existing ``out`` that was built with other settings.
    progress : bool
        Show tqdm progress bars and a summary.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ValueError
        Bad arguments, a bad SoundFont (:class:`semisup.data.embedded.render.SoundFontError`), or an
        ``out`` that exists with other settings and ``force=False``. Nothing is written.
    """
    started = time.perf_counter()
    _check_args(size, seed, sample_rate, workers)
    out = Path(out).expanduser().resolve()
    font = render.load_soundfont(soundfont, programs=gm.MELODIC_PROGRAMS, drums=True)
    settings = _settings(size, seed, sample_rate, font)
    if is_complete(out, settings):
        if progress:
            print(f"{out} is up to date ({size}, seed {seed}); nothing to do")
        return out
    if out.exists() and not force:
        raise ValueError(
            f"{out} exists but is not a finished build with these settings {settings}; pass "
            f"--force (force=True) to replace it, or choose another --out")
    config = SIZES[size]
    n_workers = workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                            else os.cpu_count() or 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(out)
    partial = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    pool = None
    try:
        init = (str(font.path), font.sha256, sample_rate)
        if n_workers > 1:
            pool = multiprocessing.get_context("spawn").Pool(n_workers, _init_worker, init)
        else:
            _init_worker(*init)
        parsed, pools, refs = _parse_scores(config, seed, pool, progress)
        planners = {
            "unlabeled": tasks.UnlabeledPlanner(config.unlabeled, seed, sample_rate, pools),
            "notes": tasks.NotesPlanner(config, seed, sample_rate),
            "key": tasks.KeyPlanner(config, seed, sample_rate, pools),
            "tags": tasks.TagsPlanner(config, seed, sample_rate, pools, tasks.tags_weights(refs)),
            "style": tasks.StylePlanner(config, seed, sample_rate, pools),
        }
        done, dropped = _render_all(planners, partial, pool, progress)
        if pool is not None:
            pool.close()
            pool.join()
            pool = None
        meta_tasks = _write_manifests(partial, planners, done, dropped, config, sample_rate)
        used = {t: sorted({s.meta["work"] for s in done[t].values() if "work" in s.meta})
                for t in TASKS}
        meta = {
            "size": size, "seed": seed, "sample_rate": sample_rate,
            "soundfont": font.describe(),
            "corpus": {
                "source": "music21 corpus (shipped inside the music21 wheel)",
                "music21_version": _versions()["music21"],
                "licence": corpus.MUSIC21_LICENCE,
                "collections": {
                    c.name: {"description": c.description, "licence": c.licence,
                             "works_used": len({w for t in used.values() for w in t
                                                if parsed[w].ref.collection == c.name})}
                    for c in corpus.COLLECTIONS.values()},
                "split_rule": "per collection, groups of works (mass, cantata, quartet opus, "
                              "tune title) ordered by sha256(seed:group): first 15 % test, "
                              "next 15 % valid, rest train; unlabeled uses train works only",
                "works": used,
                "failed_works": sorted(w for w, v in parsed.items() if v is None),
            },
            "versions": _versions(),
            "normalisation": {"method": "peak", "peak_dbfs": render.PEAK_DBFS,
                              "format": "WAV, mono, 16-bit PCM"},
            "note_ends": {"min_release_seconds_single_notes": render.MIN_RELEASE_SECONDS,
                          "end_fade_seconds": render.END_FADE_SECONDS},
            "clip_seconds": {t: tasks.NOTE_SECONDS if t == "notes" else tasks.CLIP_SECONDS
                             for t in TASKS},
            "notes_programs": {s: [gm.program_name(p) for p in progs]
                               for s, progs in planners["notes"].programs.items()},
            "build": {"settings": settings, "workers": n_workers,
                      "command": _command(size, out, seed, soundfont, sample_rate)},
            "build_seconds": round(time.perf_counter() - started, 1),
            "tasks": meta_tasks,
        }
        (partial / "meta.json").write_text(json.dumps(meta, indent=1))
        _publish(partial, out)
    except BaseException:
        if pool is not None:
            pool.terminate()
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if progress:
        _summary(out, meta)
    return out


def _parse_scores(config: tasks.SizeConfig, seed: int, pool, progress: bool):
    """Choose the works the tasks need and parse them (cached) in parallel.

    Returns ``(parsed, pools, refs)``: ``work_id -> Work | None``, ``split -> collection ->
    [Work]`` in cycling order, and the corpus inventory.
    """
    refs = corpus.inventory()
    splits = corpus.assign_splits(refs, seed)
    to_parse, pools_refs = tasks.works_needed(config, refs, splits, seed, corpus.abc_modes(refs))
    results = pool.imap(_parse_job, to_parse) if pool else map(_parse_job, to_parse)
    parsed = {}
    for ref, work in zip(to_parse, progress_bar(results, total=len(to_parse), desc="parse scores",
                                        disable=not progress, unit="work"), strict=True):
        parsed[ref.work_id] = work
    return parsed, _works_pools(pools_refs, parsed), refs


def _render_all(planners: dict, partial: Path, pool, progress: bool):
    """Render every slot, retrying failed ones with the next attempt (``MAX_ATTEMPTS``).

    Returns ``(done, dropped)``: ``task -> {index: ClipSpec}`` of written clips and
    ``task -> Counter(reason)`` of rejected candidates.
    """
    done: dict[str, dict[int, ClipSpec]] = {t: {} for t in TASKS}
    dropped: dict[str, Counter] = {t: Counter() for t in TASKS}
    for task in TASKS:
        (partial / task / "audio").mkdir(parents=True)
    for attempt in range(tasks.MAX_ATTEMPTS):
        jobs, owners = [], []
        for task in TASKS:
            folder = str(partial / task / "audio")
            for index in range(len(planners[task])):
                if index in done[task]:
                    continue
                spec = planners[task].candidate(index, attempt)
                if spec is None:
                    dropped[task]["no_excerpt"] += 1
                    continue
                jobs.append((folder, spec))
                owners.append((task, index))
        if not jobs:
            break
        results = pool.imap(_render_job, jobs, chunksize=8) if pool else map(_render_job, jobs)
        bar = progress_bar(results, total=len(jobs), disable=not progress, unit="clip",
                   desc=f"render (attempt {attempt + 1})")
        for (task, index), (_, spec), (_, reason) in zip(owners, jobs, bar, strict=True):
            if reason is None:
                done[task][index] = spec
            else:
                dropped[task][reason] += 1
    return done, dropped


def _write_manifests(partial: Path, planners: dict, done: dict, dropped: dict,
                     config: tasks.SizeConfig, sample_rate: int) -> dict:
    """Write each task's manifest.csv; return the ``tasks`` section of meta.json."""
    meta_tasks = {}
    for task in TASKS:
        specs = [done[task][i] for i in sorted(done[task])]
        labels_meta: dict = {}
        if task == "tags":
            vocabulary = tasks.tag_vocabulary([s.labels["tags"].split("|") for s in specs],
                                              [s.split for s in specs], config.min_tag_count)
            keep = set(vocabulary)
            kept = []
            for spec in specs:
                tags = [t for t in spec.labels["tags"].split("|") if t in keep]
                if tags:
                    kept.append(ClipSpec(spec.clip_id, spec.split, (), spec.n_samples, None,
                                         {"tags": "|".join(tags)}, spec.meta))
                else:  # no tag left: it would read as an unlabeled clip, so drop it
                    (partial / task / "audio" / f"{spec.clip_id}.wav").unlink()
                    dropped[task]["no_frequent_tag"] += 1
            specs = kept
            labels_meta = {"tags": {"type": "multilabel", "classes": vocabulary}}
        elif task == "notes":
            classes = planners["notes"].classes
            labels_meta = {f: {"type": "multiclass", "classes": classes[f]}
                           for f in ("pitch", "instrument", "family")}
        elif task == "key":
            labels_meta = {"key": {"type": "multiclass", "classes": list(KEY_CLASSES)}}
        elif task == "style":
            labels_meta = {"style": {"type": "multiclass",
                                     "classes": list(corpus.STYLE_CLASSES)}}
        rows = [{"path": f"audio/{s.clip_id}.wav", "split": s.split,
                 "duration_s": f"{s.n_samples / sample_rate:.3f}", **s.labels,
                 **{f"meta_{k}": v for k, v in s.meta.items()}} for s in specs]
        columns = ["path", "split", "duration_s", *labels_meta] + sorted(
            {k for r in rows for k in r if k.startswith("meta_")})
        frame = pd.DataFrame(rows, columns=columns)
        frame.to_csv(partial / task / "manifest.csv", index=False, lineterminator="\n")
        meta_tasks[task] = {
            "n_clips": len(rows),
            "splits": {s: int((frame["split"] == s).sum()) for s in tasks.SPLITS
                       if (frame["split"] == s).any()},
            "labels": labels_meta,
            "default_label": {"notes": "pitch", "key": "key", "tags": "tags",
                              "style": "style"}.get(task),
            "requested": len(planners[task]),
            "rejected_renders": dict(sorted(dropped[task].items())),
        }
    return meta_tasks


def _command(size: str, out: Path, seed: int, soundfont, sample_rate: int) -> str:
    """Return the command line that rebuilds this output."""
    parts = ["python -m semisup.data.embedded.build", f"--size {size}", f"--out {out}", f"--seed {seed}",
             f"--sample-rate {sample_rate}"]
    if soundfont is not None:
        parts.append(f"--soundfont {Path(soundfont).expanduser().resolve()}")
    return " ".join(parts)


def _publish(partial: Path, out: Path) -> None:
    """Move the finished ``partial`` folder to ``out`` (replacing an old build last)."""
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
        os.replace(partial, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(partial, out)


def _summary(out: Path, meta: dict) -> None:
    size_mb = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6
    print(f"built {out} ({meta['size']}, seed {meta['seed']}) in {meta['build_seconds']} s, "
          f"{size_mb:.0f} MB")
    for task, info in meta["tasks"].items():
        fields = ", ".join(f"{f}: {len(v['classes'])} classes" for f, v in info["labels"].items())
        print(f"  {task:9s} {info['n_clips']:6d} clips {info['splits']} {fields}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``python -m semisup.data.embedded.build --help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m semisup.data.embedded.build",
        description="Build the embedded benchmark (GM SoundFont x music21 corpus).")
    parser.add_argument("--size", choices=sorted(SIZES), default="small",
                        help="tiny (tests, <30 s), small (demo, <=5 min), full (paper-like)")
    parser.add_argument("--out", required=True, help="output folder, e.g. data/small")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--soundfont", default=None,
                        help="General MIDI .sf2 (default: TimGM6mb.sf2 from pretty_midi)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--sample-rate", type=int, default=DEFAULT_SAMPLE_RATE)
    parser.add_argument("--force", action="store_true",
                        help="replace an existing build made with other settings")
    args = parser.parse_args(argv)
    try:
        build(args.size, args.out, seed=args.seed, soundfont=args.soundfont,
              workers=args.workers, sample_rate=args.sample_rate, force=args.force)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
