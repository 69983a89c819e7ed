"""Probe-embedding extraction, tracks per second: DataLoader workers against in-process decoding.

``semisup.extract.extract_embeddings`` (the one extraction path of probes, ``semisup.evaluate``
and ``semisup.embed``) on full-length tracks as MTG-Jamendo and FMA ship them: a
Jamendo-like tree (``semisup.data.fixtures.write_jamendo``) of ``--tracks`` MP3s of
``--seconds`` s, 44.1 kHz stereo 320 kbps. Each track is decoded up to 64 crops, downmixed,
resampled to the encoder's rate and cut into crops; crops of consecutive tracks are batched
(256 per forward pass) and averaged per track (Sec. 5.2's probing protocol).

- ``workers=0``: the single-process path (decode a track, then encode, in turn), as the
  probes extracted before DataLoader workers: the baseline, measured in the same run;
- ``workers=1, 2``: tracks decoded in DataLoader processes while the encoder runs.

The ``small`` encoder runs every setting on all tracks; SampleCNN (59 535-sample crops at
22 050 Hz, slow on a CPU) runs ``workers=0`` and the largest setting on ``--samplecnn-tracks``
tracks. Decode-only rates (no encoder, ``small``'s 16 kHz) show what a GPU-side encoder
could be fed, and the CPU time of decoding one track (one thread) how many cores a GPU
needs. Embeddings of every setting are checked to be identical to the baseline's. Settings alternate over
``--passes`` passes (median reported) so load from other processes hits them alike. Last,
each encoder's crop pools (:func:`semisup.extract.extract_crop_embeddings`, the probes'
train/valid input: up to 64 overlapping crops over the whole track) are timed against the
track means, with the pool cache's size on disk per track.

    python benchmarks/bench_extract.py [--tracks 24] [--seconds 60] [--passes 1]
        [--samplecnn-tracks 4] [--workers 1 2] [--data-dir DIR]
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch.utils.data import DataLoader

from semisup.data.fixtures import write_jamendo
from semisup.data.spec import DatasetSpec
from semisup.encoders import random_encoder
from semisup.extract import TrackCrops, extract_crop_embeddings, extract_embeddings


def tracks_per_s(encoder, paths, workers):
    """Extract once; return (tracks/s, embeddings)."""
    start = time.perf_counter()
    result = extract_embeddings(encoder, paths, sample_rate=encoder.sample_rate, crop_samples=encoder.crop_samples,
                                workers=workers, progress=False)
    return len(paths) / (time.perf_counter() - start), result.embeddings


def decoded_per_s(encoder, paths, workers):
    """Tracks/s delivered by the DataLoader alone (decode + resample + crop, no encoder)."""
    loader = DataLoader(TrackCrops(paths, encoder.crop_samples, encoder.sample_rate), batch_size=None,
                        num_workers=workers, prefetch_factor=4 if workers else None)
    start = time.perf_counter()
    for _ in loader:
        pass
    return len(paths) / (time.perf_counter() - start)


def decode_cpu_s(encoder, paths):
    """CPU seconds (user + sys) per track to decode, downmix, resample and crop, one torch thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    dataset = TrackCrops(paths, encoder.crop_samples, encoder.sample_rate)
    start = time.process_time()
    for i in range(len(dataset)):
        dataset[i]
    torch.set_num_threads(threads)
    return (time.process_time() - start) / len(paths)


def measure(name, encoder, paths, settings, passes, decode_only=True):
    """Print tracks/s of each worker setting and its ratio to workers=0 (median of passes)."""
    tracks_per_s(encoder, paths[:2], 0)  # warm-up: kernels, resampler, page cache
    rates = {w: [] for w in settings}
    decode = {w: [] for w in settings}
    reference = None
    for _ in range(passes):
        for workers in settings:
            rate, embeddings = tracks_per_s(encoder, paths, workers)
            rates[workers].append(rate)
            reference = embeddings if reference is None else reference
            assert np.array_equal(embeddings, reference), f"workers={workers} changed the embeddings"
            if decode_only:
                decode[workers].append(decoded_per_s(encoder, paths, workers))
    base = statistics.median(rates[0])
    crops = min(64, int(sf.info(paths[0]).duration * encoder.sample_rate) // encoder.crop_samples)
    print(f"{name}: {len(paths)} tracks, {crops} crops of {encoder.crop_samples} samples at "
          f"{encoder.sample_rate} Hz each")
    for workers in settings:
        rate = statistics.median(rates[workers])
        label = "workers=0 (in-process, baseline)" if workers == 0 else f"workers={workers}"
        alone = f"   decode only {statistics.median(decode[workers]):6.2f} tracks/s" if decode_only else ""
        print(f"  {label:34s} {rate:6.2f} tracks/s  {rate / base:5.2f}x{alone}")
    print("  embeddings identical for every setting: yes")
    if decode_only:
        cpu = decode_cpu_s(encoder, paths)
        print(f"  decoding alone costs {1e3 * cpu:.0f} ms of CPU per track (1 thread, load-independent): "
              f"{1 / cpu:.1f} tracks/s per decoding core")


def measure_pools(name, encoder, paths, workers):
    """Print tracks/s of the probes' crop pools beside the track means, and the pool cache's size."""
    options = dict(sample_rate=encoder.sample_rate, crop_samples=encoder.crop_samples, workers=workers,
                   progress=False)
    mean_rate = tracks_per_s(encoder, paths, workers)[0]
    with tempfile.TemporaryDirectory(prefix="bench_pools_") as cache:
        start = time.perf_counter()
        pools = extract_crop_embeddings(encoder, paths, cache_dir=cache, **options)
        rate = len(paths) / (time.perf_counter() - start)
        size = sum(f.stat().st_size for f in Path(cache).glob("*.npz"))
    per_track = len(pools.crops) / len(paths)
    print(f"  crop pools (probe train/valid, workers={workers}): {rate:.2f} tracks/s ({per_track:.0f} crops/track) "
          f"vs track means {mean_rate:.2f} tracks/s: {mean_rate / rate:.1f}x the cost; cache "
          f"{size / len(paths) / 1024:.0f} KiB/track = {size / len(paths) * 1e4 / 1e9:.2f} GB per 10 000 such tracks")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--samplecnn-tracks", type=int, default=4)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--data-dir", help="keep the fixture tree here (reused when present)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    args = parser.parse_args()
    temporary = None if args.data_dir else tempfile.TemporaryDirectory(prefix="bench_extract_")
    root = Path(args.data_dir or temporary.name)
    metadata, audio = root / "mtg-jamendo-dataset", root / "jamendo-audio"
    start = time.perf_counter()
    if not (metadata / "data").exists():
        write_jamendo(metadata, audio, n_tracks=args.tracks, seconds=args.seconds)
    written = time.perf_counter() - start
    paths = DatasetSpec.parse(f"jamendo:{metadata}?audio_dir={audio}").load().paths[:args.tracks]
    print(f"{len(paths)} Jamendo-like tracks, {args.seconds:g} s, 44.1 kHz stereo 320 kbps MP3 in {root} "
          f"(written in {written:.0f} s, 0 when reused); {os.cpu_count()} cores, {torch.get_num_threads()} torch "
          f"threads in the main process, load average {os.getloadavg()[0]:.1f} at start")
    settings = [0, *args.workers]
    # The encoder runs where probes run it: on CUDA when present (extraction follows its device).
    device = torch.device(args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    print(f"encoder on {device}")
    small, samplecnn = (random_encoder(name, 0).to(device) for name in ("small", "samplecnn"))
    measure("small (random init)", small, paths, settings, args.passes)
    measure_pools("small", small, paths, max(args.workers))
    measure("samplecnn (random init)", samplecnn, paths[:args.samplecnn_tracks],
            [0, max(args.workers)], args.passes, decode_only=False)
    measure_pools("samplecnn", samplecnn, paths[:args.samplecnn_tracks], max(args.workers))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if temporary is not None:
        temporary.cleanup()


if __name__ == "__main__":
    main()
