"""Training chunks per second and per core: raw MP3 against the prepared WAV cache, one run.

Every clip read is one random chunk of 2 views x 2.7 s = 119 070 samples at 22 050 Hz
(Sec. 4.2), read by ``semisup.data.audio.read_chunk`` in one process with one torch thread:

  (a) raw MTAT-like MP3: 16 kHz mono 32 kbps, 29.1 s (``semisup.data.fixtures.write_mtat``);
  (b) raw FMA-like MP3: 44.1 kHz stereo 256 kbps, 30 s (``write_fma``; its 48 kHz and
      22.05 kHz tracks are prepared but not timed in (b));
  (c) the same files after ``python -m semisup.data.prepare``: 16-bit mono WAV at 22 050 Hz.

Each file gets the same seeded chunk starts in every format; passes over (a), (b), (c)
alternate so load from other processes hits all three alike; the median pass is reported.
Files sit in the page cache: this measures decoding, not disk reads. Then the cores a GPU
consuming ``--gpu-clips-per-s`` would need to be fed from each, and the clips/s that
SemiSupervisedSampler + a one-worker DataLoader deliver from the prepared cache (labeled
MTAT + unlabeled FMA, batch 96). Targets (issue): (c) >= 15 x (b) and >= 1 500 clips/s.

    python benchmarks/bench_data.py [--files 40] [--passes 5] [--work-dir DIR]
                                    [--gpu-clips-per-s 2000] [--batches 6]
"""

import argparse
import math
import statistics
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch
from torch.utils.data import DataLoader

from semisup.data.audio import read_chunk
from semisup.data.fixtures import write_fma, write_mtat
from semisup.data.prepare import prepare
from semisup.data.sampler import SemiSupervisedSampler
from semisup.data.spec import DatasetSpec

SAMPLE_RATE = 22050
CHUNK = 2 * 59535  # 2 views x 2.7 s


def ms_per_chunk(paths, seeds):
    """Mean milliseconds of one read_chunk over ``paths`` (one pass, the given seeds)."""
    start = time.perf_counter()
    for path, seed in zip(paths, seeds, strict=True):
        read_chunk(path, CHUNK, SAMPLE_RATE, rng=np.random.default_rng(seed))
    return (time.perf_counter() - start) * 1e3 / len(paths)


def cached_files(out):
    """Source path -> prepared WAV path, from a prepared folder's clips.csv."""
    table = pd.read_csv(out / "clips.csv", dtype=str, keep_default_na=False)
    return {Path(s): out / p for s, p in zip(table["source_path"], table["path"], strict=True)}


def delivered_clips_per_s(labeled, unlabeled, batches):
    """Clips/s out of SemiSupervisedSampler through a DataLoader with one worker."""
    sampler = SemiSupervisedSampler(labeled, unlabeled, batch_size=96, ps=1.0, bs=0.5,
                                    n_views=2, crop_samples=CHUNK // 2,
                                    sample_rate=SAMPLE_RATE, seed=0, num_batches=1 + batches)
    it = iter(DataLoader(sampler, batch_size=None, num_workers=1))
    next(it)  # worker start-up, not timed
    start = time.perf_counter()
    clips = sum(next(it)["audio"].shape[0] for _ in range(batches))
    return clips / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40, help="files per raw format")
    parser.add_argument("--passes", type=int, default=5, help="timed passes per format")
    parser.add_argument("--work-dir", default=None,
                        help="keep the fixture trees and caches here (reused when present); "
                             "default: a temporary folder")
    parser.add_argument("--gpu-clips-per-s", type=float, default=2000.0)
    parser.add_argument("--batches", type=int, default=6, help="timed sampler batches")
    parser.add_argument("--workers", type=int, default=None, help="prepare processes")
    args = parser.parse_args()

    temporary = tempfile.TemporaryDirectory() if args.work_dir is None else None
    work = Path(args.work_dir or temporary.name)
    started = time.perf_counter()
    if not (work / "mtat" / "annotations_final.csv").is_file():
        write_mtat(work / "mtat", n_clips=args.files, seconds=29.1)
    if not (work / "fma" / "fma_metadata" / "tracks.csv").is_file():
        # 4 of every 6 FMA fixture tracks are 44.1 kHz stereo; no short track here.
        write_fma(work / "fma", n_tracks=math.ceil(args.files * 1.5), seconds=30.0,
                  short_seconds=30.0)
    written = time.perf_counter() - started
    specs = {"mtat": f"mtat:{work / 'mtat'}?subset=all", "fma": f"fma:{work / 'fma'}"}
    for name, spec in specs.items():
        prepare(spec, work / f"{name}_22k", workers=args.workers, progress=False)
    prepared_s = time.perf_counter() - started - written

    torch.set_num_threads(1)  # one core, as in a DataLoader worker
    raw = {name: DatasetSpec.parse(spec).load() for name, spec in specs.items()}
    cache = {name: DatasetSpec.parse(f"prepared:{work / name}_22k").load() for name in specs}
    by_source = {name: cached_files(work / f"{name}_22k") for name in specs}
    mtat = [p for p in raw["mtat"].paths if p in by_source["mtat"]][:args.files]
    fma = [p for p in raw["fma"].paths if p in by_source["fma"]
           and sf.info(p).samplerate == 44100 and sf.info(p).channels == 2][:args.files]
    formats = {
        "(a) raw MTAT mp3, 16 kHz mono 32 kbps": (mtat, mtat),
        "(b) raw FMA mp3, 44.1 kHz stereo 256 kbps": (fma, fma),
        "(c) prepared WAV, 22.05 kHz mono 16-bit": (
            [by_source["mtat"][p] for p in mtat] + [by_source["fma"][p] for p in fma],
            mtat + fma),
    }
    seeds = {key: [zlib.crc32(str(s).encode()) for s in sources]  # same seeds per source file
             for key, (_, sources) in formats.items()}
    for key, (paths, _) in formats.items():  # warm-up: page cache, resampler kernels
        ms_per_chunk(paths[:4], seeds[key][:4])
    times = {key: [] for key in formats}
    for _ in range(args.passes):
        for key, (paths, _) in formats.items():
            times[key].append(ms_per_chunk(paths, seeds[key]))
    ms = {key: statistics.median(t) for key, t in times.items()}

    print(f"fixture trees in {work}: written in {written:.0f} s, prepared in {prepared_s:.0f} s "
          f"(0 s when reused); {len(mtat)} MTAT + {len(fma)} FMA files; one chunk = 2 x 2.7 s "
          f"= {CHUNK} samples at {SAMPLE_RATE} Hz; 1 process, 1 torch thread; median of "
          f"{args.passes} passes")
    need = args.gpu_clips_per_s
    for key in formats:
        rate = 1e3 / ms[key]
        print(f"{key:45s} {ms[key]:6.2f} ms/chunk  {rate:7.0f} clips/s per core  "
              f"{math.ceil(need / rate):3d} cores for {need:.0f} clips/s")
    a, b, c = (ms[k] for k in formats)
    print(f"(c)/(a) = {a / c:.1f}x   (c)/(b) = {b / c:.1f}x   "
          f"targets: (c)/(b) >= 15x [{'met' if b / c >= 15 else 'NOT met'}], "
          f"(c) >= 1500 clips/s per core [{'met' if 1e3 / c >= 1500 else 'NOT met'}]")
    torch.set_num_threads(1)
    delivered = delivered_clips_per_s(cache["mtat"], cache["fma"], args.batches)
    print(f"SemiSupervisedSampler + DataLoader (1 worker) from the prepared cache, batch 96 "
          f"(48 MTAT + 48 FMA): {delivered:.0f} clips/s delivered")
    if temporary is not None:
        temporary.cleanup()


if __name__ == "__main__":
    main()
