"""Prepare a dataset once: decode, downmix, resample, store 16-bit mono WAV (``prepared:DIR``).

Usage::

    python -m semisup.data.prepare "mtat:/data/MTAT?subset=top50" --out /data/mtat_22k
    python -m semisup.data.prepare SPEC --out DIR [--sample-rate 22050] [--workers N]
                                   [--shard K/N] [--min-seconds 0.5] [--silence-db -80]

Training reads one random chunk per clip (Sec. 4.2). From raw MP3 that costs ~3.5 ms
(MTAT) to ~11 ms (FMA, 44.1 kHz stereo) per chunk on one core, so a GPU consuming
~2 000 clips/s would need 7-22 cores just to decode; from a 16-bit mono WAV at the
training rate a chunk costs ~0.25 ms (``benchmarks/bench_data.py``). The authors also
trained from WAV copies. The result is a dataset of its own, with the source's labels,
classes and splits in the source's order: ``DatasetSpec.parse("prepared:DIR").load()``.

Conventions
-----------
- **Per clip**: the whole file is decoded (soundfile), channels are averaged, the audio is
  resampled to ``sample_rate`` with the cached torchaudio resampler that ``read_chunk``
  uses (:func:`semisup.data.audio.get_resampler`), clipped to [-1, 1] and written as 16-bit
  PCM mono WAV. Worker processes (all cores by default) run one torch thread each.
- **Output names**: ``audio/<h[:2]>/<h>.wav`` with ``h`` the first 20 hex digits of the
  SHA-1 of the source path relative to the dataset root (the absolute path when the file
  lies outside it), so a source always maps to the same file, across runs and shards.
- **Rejects** go to ``rejected.csv`` (``source_path, reason``) and are left out of the
  manifest; the reason starts with ``missing``, ``empty`` (zero bytes or no audio frames),
  ``unreadable`` (libsndfile cannot decode it, or NaN/inf samples), ``too short``
  (shorter than ``min_seconds``, default 0.5 s) or ``silent`` (RMS below ``silence_db``,
  default -80 dBFS, i.e. an RMS of 1e-4: digital silence or an empty recording).
- **Resume**: state lives in ``DIR/.prepare/``: ``settings.json`` (the source and the
  settings; a different source or settings in the same DIR is refused) and journals
  ``journal*.jsonl``, one JSON line per finished clip (source size and mtime, output size,
  reject reason), appended once its WAV is in place (temp file + rename). A clip is
  skipped when a journal records it with the source's current size and mtime and its WAV
  has the recorded size; otherwise it is prepared again. A kill at any moment loses at most
  the clips in flight; lines are flushed at once (enough for a killed process) and fsync'ed
  at least once a second (a machine crash may lose the last second, redone next time).
- **Manifest**: a run without ``--shard`` prepares whatever is missing, then removes
  ``manifest.json``, writes ``clips.csv`` and ``rejected.csv``, and writes ``manifest.json``
  last (all atomic; format in :mod:`semisup.data.datasets.prepared`), so no interrupted run
  leaves a manifest pointing at missing files. Then it deletes files under ``audio/`` that
  no listed clip uses (sources that left the dataset, clips now rejected, temp files of
  killed runs) and compacts the journals into ``journal.jsonl``. A run that finds nothing
  to do writes nothing. The same source and settings give byte-identical ``clips.csv``
  whatever the workers, shards and interruptions.
- **Shards** (``--shard K/N``, ``K`` = 1 ... N): the run prepares the distinct sources whose
  index ``i`` in dataset order has ``i % N == K - 1``, writing audio and its own journal
  only, so N machines or array jobs can share one DIR. When all have finished, one run
  without ``--shard`` checks everything, prepares what is missing and writes the manifest;
  do not start it while shards still run (it deletes files it does not know).
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import re
import signal
import socket
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch

from semisup import cli
from semisup.data.audio import AudioFileError, EmptyAudioError, read_audio
from semisup.data.datasets import AudioDataset
from semisup.data.datasets.prepared import CLIP_COLUMNS, FORMAT, VERSION, encode_label
from semisup.data.spec import DatasetSpec
from semisup.paths import atomic_write
from semisup.progress import progress_bar

__all__ = ["prepare", "PrepareSummary", "parse_shard", "main", "DEFAULT_SAMPLE_RATE",
           "MIN_SECONDS", "SILENCE_DB"]

DEFAULT_SAMPLE_RATE = 22050  # the paper's SampleCNN rate (Sec. 4.3)
MIN_SECONDS = 0.5  # shorter sources are rejected: less than a tenth of one 2 x 2.7 s chunk
SILENCE_DB = -80.0  # RMS dBFS under which a source is rejected as silent
PREPARE_VERSION = 1  # bump when the audio written for the same settings changes
_KILL_AFTER = "SEMISUP_PREPARE_KILL_AFTER"  # test hook: SIGKILL after k clips, see _journal


@dataclass
class PrepareSummary:
    """What a :func:`prepare` run did.

    ``n_clips``/``n_rejected`` count dataset rows (manifest and rejected.csv; ``None`` for a
    shard run, which writes neither); ``n_prepared`` sources were decoded by this run,
    ``n_unchanged`` were already done; ``n_removed`` files were deleted from ``audio/``.
    """

    out: Path
    n_sources: int
    n_prepared: int
    n_unchanged: int
    n_clips: int | None = None
    n_rejected: int | None = None
    n_removed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    manifest_written: bool = False
    seconds: float = 0.0

    def __str__(self) -> str:
        """Return a two-line report."""
        work = (f"{self.out}: prepared {self.n_prepared} of {self.n_sources} sources "
                f"({self.n_unchanged} already done) in {self.seconds:.1f} s")
        if self.n_clips is None:
            return work + "\nshard done; run again without --shard to write the manifest"
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.reasons.items())) or "none"
        state = "written" if self.manifest_written else "unchanged"
        return (f"{work}\n{self.n_clips} clips in the manifest ({state}); {self.n_rejected} "
                f"rejected ({reasons}), listed in rejected.csv; {self.n_removed} stale files "
                f"removed")


def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """Parse ``"K/N"`` (1-based: ``1/4`` ... ``4/4``) into ``(K, N)``; None stays None."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text) if isinstance(text, str) else None
    k, n = (int(match[1]), int(match[2])) if match else (text if isinstance(text, tuple)
                                                         else (0, 0))
    if not 1 <= k <= n:
        raise ValueError(f"shard must be K/N with 1 <= K <= N (1-based: 1/4, 2/4, 3/4, 4/4), "
                         f"got {text!r}")
    return k, n


def output_name(source: str, root: Path) -> str:
    """Return the WAV path (relative to DIR) of ``source``: ``audio/<h[:2]>/<h>.wav``."""
    path = Path(source)
    key = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
    return f"audio/{digest[:2]}/{digest}.wav"


# ------------------------------------------------------------------------------ one clip


def _cores() -> int:
    """Cores this process may use (all of them outside Linux)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _init_worker() -> None:
    torch.set_num_threads(1)  # one process per core: no oversubscription


def prepare_clip(source: str, out: str, rel: str, sample_rate: int, min_seconds: float,
                 silence_db: float) -> dict:
    """Decode ``source`` and write ``out/rel`` atomically; return its journal record.

    A bad source writes nothing and gets a ``reason`` (module docstring); other errors
    (a full disk ...) propagate.
    """
    record = {"source_path": source, "source_size": None, "source_mtime_ns": None, "path": rel,
              "frames": 0, "output_size": 0, "reason": None}
    try:
        stat = os.stat(source)  # before decoding: a source changed meanwhile is redone later
        record.update(source_size=stat.st_size, source_mtime_ns=stat.st_mtime_ns)
        if stat.st_size == 0:
            return {**record, "reason": "empty: 0 bytes"}
        audio = read_audio(source, sample_rate).clamp_(-1.0, 1.0).numpy()  # [T] mono
    except FileNotFoundError:  # from os.stat, or read_audio's MissingAudioError
        return {**record, "reason": "missing: the file is gone"}
    except EmptyAudioError as error:
        return {**record, "reason": f"empty: {error}"}
    except AudioFileError as error:
        return {**record, "reason": f"unreadable: {error}"}
    seconds = audio.shape[0] / sample_rate
    if seconds < min_seconds:
        return {**record, "reason": f"too short: {seconds:.3f} s < {min_seconds} s"}
    rms = math.sqrt(float(np.mean(np.square(audio, dtype=np.float64))))
    level = 20 * math.log10(rms) if rms > 0 else -math.inf
    if level < silence_db:
        return {**record, "reason": f"silent: RMS {level:.1f} dBFS < {silence_db} dBFS"}
    target = Path(out) / rel
    atomic_write(target, lambda tmp: sf.write(tmp, audio, sample_rate, subtype="PCM_16",
                                              format="WAV"))
    return {**record, "frames": int(audio.shape[0]), "output_size": target.stat().st_size}


# ------------------------------------------------------------------------------- state


def _settings(spec: DatasetSpec, sample_rate: int, min_seconds: float, silence_db: float) -> dict:
    source = str(DatasetSpec(spec.kind, str(spec.path), spec.options))  # ROOT made absolute
    return {"source": source, "sample_rate": sample_rate, "min_seconds": min_seconds,
            "silence_db": silence_db, "subtype": "PCM_16", "prepare_version": PREPARE_VERSION}


def _describe(settings: dict) -> str:
    return (f"{settings.get('source')!r} at {settings.get('sample_rate')} Hz (min_seconds "
            f"{settings.get('min_seconds')}, silence_db {settings.get('silence_db')}, "
            f"version {settings.get('prepare_version')})")


def _claim(out: Path, settings: dict) -> None:
    """Make ``out`` ours for ``settings``, or refuse: another source, settings, or stray files."""
    state = out / ".prepare" / "settings.json"
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; pass a folder")
    if state.is_file():
        old = json.loads(state.read_text())
    elif (out / "manifest.json").is_file():
        old = json.loads((out / "manifest.json").read_text()).get("settings", {})
    elif out.is_dir() and any(out.iterdir()):
        raise ValueError(f"--out {out} is not empty and holds no preparation (no "
                         f".prepare/settings.json or manifest.json); choose a new or empty folder")
    else:
        old = None
    if old is None:
        atomic_write(state, lambda tmp: Path(tmp).write_text(json.dumps(settings, indent=1)))
        old = json.loads(state.read_text())  # another shard may have won the race
    if old != settings:
        raise ValueError(f"--out {out} holds a preparation of {_describe(old)}; this run asks "
                         f"for {_describe(settings)}. Choose another --out (or delete {out})")
    if not state.is_file():
        atomic_write(state, lambda tmp: Path(tmp).write_text(json.dumps(settings, indent=1)))


def _read_journals(state: Path) -> dict[str, list[dict]]:
    """Return ``source_path -> [records]`` from every journal in ``state``."""
    records: dict[str, list[dict]] = {}
    for path in sorted(state.glob("journal*.jsonl")):
        with open(path) as f:
            for line in f:
                if not line.endswith("\n"):
                    continue  # the last line of a journal cut by a machine crash
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                records.setdefault(record["source_path"], []).append(record)
    return records


def _current(records: list[dict], source: str, out: Path) -> dict | None:
    """Return the record of ``source`` that is still valid (same size and mtime, WAV intact)."""
    try:
        stat = os.stat(source)
    except OSError:
        return None
    for record in reversed(records):
        if record["source_size"] != stat.st_size or record["source_mtime_ns"] != stat.st_mtime_ns:
            continue
        if record["reason"] is not None:
            return record
        try:
            if (out / record["path"]).stat().st_size == record["output_size"]:
                return record
        except OSError:
            continue
    return None


class _Journal:
    """Append-only journal of one run: a line per clip, flushed at once, fsync'ed each second."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(path, "a")
        self.synced = time.monotonic()

    def append(self, record: dict) -> None:
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        if time.monotonic() - self.synced > 1.0:
            os.fsync(self.file.fileno())
            self.synced = time.monotonic()

    def close(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()


# ---------------------------------------------------------------------------------- runs


def _run(jobs: list[tuple], workers: int, progress: bool) -> Iterator[dict]:
    """Yield the record of every job, in-process (1 worker) or from a process pool.

    The pool uses the platform's default start method (fork on Linux, as DataLoader workers
    do), so workers start at once, without importing torch again; they are started before
    the progress bar, whose monitor thread would otherwise be running at fork time.
    """
    if workers == 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for job in progress_bar(jobs, desc="prepare", unit="clip", disable=not progress):
                yield prepare_clip(*job)
        finally:
            torch.set_num_threads(threads)
        return
    context = multiprocessing.get_context()
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
        futures = [pool.submit(prepare_clip, *job) for job in jobs]
        try:
            yield from (f.result() for f in progress_bar(as_completed(futures), total=len(jobs),
                                                  desc="prepare", unit="clip",
                                                  disable=not progress))
        finally:
            for future in futures:
                future.cancel()


def _journal(jobs: list[tuple], workers: int, journal: _Journal, progress: bool) -> list[dict]:
    """Run ``jobs`` and journal each record as it arrives; return the records."""
    kill_after = int(os.environ.get(_KILL_AFTER) or 0)
    done = []
    for record in _run(jobs, workers, progress):
        if len(done) + 1 == kill_after:  # tests: die with a WAV written but not journaled
            os.kill(os.getpid(), signal.SIGKILL)
        journal.append(record)
        done.append(record)
    return done


def _tables(dataset: AudioDataset, valid: dict[str, dict],
            settings: dict) -> tuple[str, str, str, int, Counter]:
    """Return (clips.csv, rejected.csv, manifest.json) texts, the clip count and reasons."""
    rows, rejected, reasons = [], [], Counter()
    for i, path in enumerate(dataset.paths):
        record = valid[str(path)]
        if record["reason"] is not None:
            rejected.append({"source_path": str(path), "reason": record["reason"]})
            reasons[record["reason"].split(":")[0]] += 1
            continue
        rows.append({"path": record["path"], "split": dataset.split[i],
                     "duration_s": f"{record['frames'] / settings['sample_rate']:.3f}",
                     "label": encode_label(dataset.labels, i, dataset.task_type),
                     "source_path": str(path), "source_size": record["source_size"],
                     "source_mtime_ns": record["source_mtime_ns"]})
    clips = pd.DataFrame(rows, columns=CLIP_COLUMNS).to_csv(index=False, lineterminator="\n")
    rejects = pd.DataFrame(rejected, columns=["source_path", "reason"]).to_csv(
        index=False, lineterminator="\n")
    manifest = {"format": FORMAT, "version": VERSION, "source": settings["source"],
                "name": dataset.name, "task_type": dataset.task_type,
                "classes": list(dataset.classes), "sample_rate": settings["sample_rate"],
                "n_clips": len(rows), "n_rejected": len(rejected), "settings": settings,
                "info": dataset.info}
    return (clips, rejects, json.dumps(manifest, indent=1, default=str) + "\n", len(rows),
            reasons)


def _write_manifest(out: Path, texts: dict[str, str]) -> bool:
    """Write clips.csv, rejected.csv, then manifest.json, unless all three are unchanged."""
    paths = {name: out / name for name in texts}
    if all(p.is_file() and p.read_text() == texts[n] for n, p in paths.items()):
        return False
    paths["manifest.json"].unlink(missing_ok=True)  # not a dataset until the end
    for name in ("clips.csv", "rejected.csv", "manifest.json"):
        atomic_write(paths[name], lambda tmp, n=name: Path(tmp).write_text(texts[n]))
    return True


def _clean(out: Path, keep: set[str], valid: dict[str, dict]) -> int:
    """Delete files under audio/ not in ``keep``; compact the journals; return the count."""
    removed = 0
    for folder, _, files in os.walk(out / "audio"):
        for name in files:
            path = Path(folder) / name
            if path.relative_to(out).as_posix() not in keep:
                path.unlink()
                removed += 1
    state = out / ".prepare"
    old = list(state.glob("journal*.jsonl"))
    lines = "".join(json.dumps(r) + "\n" for r in valid.values())
    atomic_write(state / "journal.jsonl", lambda tmp: Path(tmp).write_text(lines))
    for path in old:
        if path.name != "journal.jsonl":
            path.unlink()
    return removed


def prepare(spec: str | DatasetSpec, out: str | os.PathLike, sample_rate: int = DEFAULT_SAMPLE_RATE,
            workers: int | None = None, shard: str | tuple[int, int] | None = None,
            min_seconds: float = MIN_SECONDS, silence_db: float = SILENCE_DB,
            progress: bool = True) -> PrepareSummary:
    """Prepare the dataset ``spec`` into ``out`` (see the module docstring).

    Parameters
    ----------
    spec : str or DatasetSpec
        A raw dataset, e.g. ``"mtat:/data/MTAT?subset=top50"`` or ``"fma:/data/fma"``
        (:mod:`semisup.data.spec`); ``prepared:`` sources are refused.
    out : path-like
        The output folder (created; a folder holding another preparation is refused).
    sample_rate : int
        Rate of the WAV files in Hz (22 050: the paper's SampleCNN input, Sec. 4.3).
    workers : int, optional
        Processes (default: all cores of this machine); 1 runs in this process.
    shard : str or (int, int), optional
        ``"K/N"`` (1-based): prepare part K of N and write no manifest.
    min_seconds : float
        Sources shorter than this are rejected as ``too short``.
    silence_db : float
        Sources whose RMS is below this (dBFS) are rejected as ``silent``.
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    PrepareSummary
    """
    started = time.perf_counter()
    spec = DatasetSpec.parse(spec)
    if spec.kind == "prepared":
        raise ValueError(f"{spec} is already prepared audio; pass the raw dataset's spec "
                         f"(e.g. 'mtat:/data/MTAT?subset=top50' or 'fma:/data/fma')")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 1000:
        raise ValueError(f"sample_rate must be an int >= 1000 Hz, got {sample_rate!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValueError(f"workers must be a positive int or None (all cores), got {workers!r}")
    if not (isinstance(min_seconds, (int, float)) and 0 <= min_seconds < math.inf):
        raise ValueError(f"min_seconds must be a finite number >= 0, got {min_seconds!r}")
    if not (isinstance(silence_db, (int, float)) and silence_db <= 0):
        raise ValueError(f"silence_db must be a number <= 0 dBFS, got {silence_db!r}")
    shard = parse_shard(shard)
    out = Path(out).expanduser().resolve()
    dataset = spec.load()
    settings = _settings(spec, sample_rate, float(min_seconds), float(silence_db))
    _claim(out, settings)
    sources = list(dict.fromkeys(str(p) for p in dataset.paths))  # distinct, in dataset order
    mine = sources if shard is None else sources[shard[0] - 1::shard[1]]
    records = _read_journals(out / ".prepare")
    valid = {s: r for s in mine if (r := _current(records.get(s, []), s, out))}
    todo = [s for s in mine if s not in valid]
    if todo:
        (out / "manifest.json").unlink(missing_ok=True)  # audio changes: not a dataset for now
        tag = "all" if shard is None else f"{shard[0]}of{shard[1]}"
        journal = _Journal(out / ".prepare" / f"journal-{tag}-{socket.gethostname()}-"
                                               f"{os.getpid()}.jsonl")
        n_workers = min(len(todo), workers or _cores())
        jobs = [(s, str(out), output_name(s, dataset.root), sample_rate, float(min_seconds),
                 float(silence_db)) for s in todo]
        try:
            valid.update((r["source_path"], r) for r in _journal(jobs, n_workers, journal,
                                                                 progress))
        finally:
            journal.close()
    summary = PrepareSummary(out, len(mine), len(todo), len(mine) - len(todo))
    if shard is None:
        valid = {s: valid[s] for s in sources}  # dataset order, for the compacted journal
        clips, rejects, manifest, summary.n_clips, reasons = _tables(dataset, valid, settings)
        summary.n_rejected, summary.reasons = len(dataset) - summary.n_clips, dict(reasons)
        summary.manifest_written = _write_manifest(
            out, {"clips.csv": clips, "rejected.csv": rejects, "manifest.json": manifest})
        keep = {r["path"] for r in valid.values() if r["reason"] is None}
        summary.n_removed = _clean(out, keep, valid) if summary.manifest_written or todo else 0
    summary.seconds = time.perf_counter() - started
    return summary


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``python -m semisup.data.prepare --help``)."""
    parser = cli.ArgumentParser(
        prog="python -m semisup.data.prepare",
        description="Decode a dataset once into 16-bit mono WAV at one sample rate; the "
                    "output folder loads as prepared:DIR with the source's labels and splits.")
    parser.add_argument("spec", help="raw dataset spec, e.g. 'mtat:/data/MTAT?subset=top50'")
    parser.add_argument("--out", required=True, help="output folder, e.g. /data/mtat_22k")
    parser.add_argument("--sample-rate", type=int, default=DEFAULT_SAMPLE_RATE)
    parser.add_argument("--workers", type=int, default=None,
                        help="processes (default: all cores)")
    parser.add_argument("--shard", default=None,
                        help="K/N, 1-based: prepare part K of N, no manifest; finish with a "
                             "run without --shard")
    parser.add_argument("--min-seconds", type=float, default=MIN_SECONDS,
                        help="reject shorter sources (default %(default)s)")
    parser.add_argument("--silence-db", type=float, default=SILENCE_DB,
                        help="reject sources whose RMS is below this, dBFS (default %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    summary = prepare(args.spec, args.out, sample_rate=args.sample_rate, workers=args.workers,
                      shard=args.shard, min_seconds=args.min_seconds,
                      silence_db=args.silence_db, progress=not args.no_progress)
    print(summary)
    return 0


if __name__ == "__main__":
    cli.run(main, "python -m semisup.data.prepare")
