"""Clips/s delivered by the sampler + audio I/O against clips/s consumed by training, one run.

Delivery: SemiSupervisedSampler over the embedded benchmark (labeled `tags`, unlabeled
`unlabeled`, b_s = 0.5, p_s = 1), 2.7 s crops (59 535 samples at 22 050 Hz), 2 views,
batch 96, through a DataLoader with 2 workers; the first batch per worker (start-up) is
not timed. Consumption: forward + backward of the encoder (semisup.encoders.build_encoder)
on [b * V, L] crops, the part of a training step that scales with the batch (augmentation
and the loss come on top, so training consumes fewer clips/s than this). Baseline: one
clip read by seeking (read_chunk) against decoding the whole file and cropping.

    python benchmarks/bench_data.py [--data-dir data/small] [--workers 2] [--batch-size 96]
                                    [--batches 8] [--encoder samplecnn] [--train-batch 4]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch.utils.data import DataLoader

from semisup.data.audio import get_resampler, read_chunk
from semisup.data.datasets import load_dataset
from semisup.data.sampler import SemiSupervisedSampler


def delivered_clips_per_s(sampler, workers, n_timed):
    """Clips/s out of a DataLoader, not counting the first batch of each worker."""
    loader = DataLoader(sampler, batch_size=None, num_workers=workers)
    warmup = max(1, workers)
    it = iter(loader)
    for _ in range(warmup):
        next(it)
    start = time.perf_counter()
    clips = sum(next(it)["audio"].shape[0] for _ in range(n_timed))
    return clips / (time.perf_counter() - start)


def full_decode_chunk(path, n_samples, sample_rate, *, rng):
    """Baseline: decode the whole file, downmix, resample, then crop a random chunk."""
    audio, file_rate = sf.read(path, dtype="float32", always_2d=True)
    mono = torch.from_numpy(audio.mean(axis=1))
    if file_rate != sample_rate:
        mono = get_resampler(file_rate, sample_rate)(mono)
    start = int(rng.integers(0, max(1, mono.shape[0] - n_samples + 1)))
    return mono[start:start + n_samples]


def read_ms(fn, paths, n_samples, sample_rate):
    rng = np.random.default_rng(0)
    times = []
    for path in paths:
        start = time.perf_counter()
        fn(path, n_samples, sample_rate, rng=rng)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def build(name):
    """The encoder, or None when semisup.encoders is not importable."""
    try:
        from semisup.encoders import build_encoder
    except ImportError as error:
        print(f"training consumption skipped: semisup.encoders not importable ({error})")
        return None
    return build_encoder(name)


def consumed_clips_per_s(encoder, n_clips, n_views, crop_samples, steps):
    """Clips/s through encoder forward + backward + Adam step on [n_clips * V, L] crops."""
    encoder.train()
    optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-4)
    x = torch.randn(n_clips * n_views, crop_samples)  # [b * V, L]

    def step():
        optimizer.zero_grad()
        encoder(x).square().mean().backward()
        optimizer.step()

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return n_clips * steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data/small")
    parser.add_argument("--labeled-task", default="tags")
    parser.add_argument("--unlabeled-task", default="unlabeled")
    parser.add_argument("--batch-size", type=int, default=96)
    parser.add_argument("--n-views", type=int, default=2)
    parser.add_argument("--crop-samples", type=int, default=None,
                        help="default: the encoder's (59535 = 2.7 s for samplecnn)")
    parser.add_argument("--sample-rate", type=int, default=None,
                        help="default: the encoder's (22050 Hz for samplecnn)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batches", type=int, default=8, help="timed batches")
    parser.add_argument("--encoder", default="samplecnn", help="samplecnn or small")
    parser.add_argument("--train-batch", type=int, default=4, help="clips per timed step")
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    root = Path(args.data_dir)
    if not (root / "meta.json").is_file():
        sys.exit(f"no embedded benchmark at {root} (meta.json missing); build it with\n"
                 f"    python -m semisup.data.embedded.build --size small --out {root}\n"
                 f"or pass --data-dir")
    encoder = build(args.encoder)
    crop_samples = args.crop_samples or getattr(encoder, "crop_samples", 59535)
    sample_rate = args.sample_rate or getattr(encoder, "sample_rate", 22050)
    labeled = load_dataset("embedded", root, task=args.labeled_task)
    unlabeled = load_dataset("embedded", root, task=args.unlabeled_task)
    sampler = SemiSupervisedSampler(
        labeled, unlabeled, batch_size=args.batch_size, ps=1.0, bs=0.5, n_views=args.n_views,
        crop_samples=crop_samples, sample_rate=sample_rate, seed=0,
        num_batches=max(1, args.workers) + args.batches,
    )
    n_samples = args.n_views * crop_samples
    # Reads run single-threaded, as in DataLoader workers: on this loaded 2-core machine a
    # 2-thread torch resample of one chunk took ~50x longer than a 1-thread one.
    torch.set_num_threads(1)
    paths = [str(p) for p in unlabeled.paths[:40]]
    seek_ms = read_ms(read_chunk, paths, n_samples, sample_rate)
    full_ms = read_ms(full_decode_chunk, paths, n_samples, sample_rate)
    durations = [sf.info(p).duration for p in paths]
    delivered = delivered_clips_per_s(sampler, args.workers, args.batches)
    torch.set_num_threads(args.threads)
    consumed = None if encoder is None else consumed_clips_per_s(
        encoder, args.train_batch, args.n_views, crop_samples, args.train_steps)

    print(f"data: {root} ({len(labeled)} labeled, {len(unlabeled)} unlabeled clips, "
          f"median {statistics.median(durations):.1f} s); {sampler}")
    print(f"one clip ({args.n_views} x {crop_samples} samples at {sample_rate} Hz): seek-read {seek_ms:6.2f} ms, full decode + crop "
          f"{full_ms:6.2f} ms   full/seek = {full_ms / seek_ms:.1f}x")
    print(f"delivered by sampler + I/O ({args.workers} workers): {delivered:8.1f} clips/s")
    if consumed is not None:
        print(f"consumed by {args.encoder} fwd+bwd ({args.threads} threads, {args.train_batch} "
              f"clips x {args.n_views} views per step): {consumed:8.2f} clips/s")
        print(f"delivered / consumed = {delivered / consumed:.0f}x (target > 1)")


if __name__ == "__main__":
    main()
