"""Pretraining step speed and where the time goes; probe training speed on cached embeddings.

For the chosen encoder config (default: the small CPU one, 32 clips x 2 views), times the
three parts of a step separately over several steps: data (sampler + I/O), augmentation
(Table 1 chain) and model (forward + loss + backward + Adam). The paper's SampleCNN step is
timed in the same run as the baseline. Then the whole loop, ``python -m semisup.train`` (the
demo's pitch model), with ``OMP_WAIT_POLICY=PASSIVE`` against the libgomp default (the
environment before; idle threads spin), rounds alternating so that load from other processes
hits both alike. Last, an MLP probe on 10 000 random 512-d "cached embeddings" (target
<= 30 s on CPU).

    python benchmarks/bench_train.py [--data-dir data/small] [--steps 10] [--threads 2]
                                     [--loop-steps 20] [--loop-rounds 3]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from semisup.augment import AugmentationChain
from semisup.data.datasets import load_dataset
from semisup.data.sampler import SemiSupervisedSampler
from semisup.encoders import ContrastiveModel, build_encoder
from semisup.loss import SemiSupConLoss
from semisup.paths import repo_path
from semisup.probe import ProbeConfig, train_probe


def time_steps(encoder_name, data_dir, batch_size, steps, seed=0):
    """Return median seconds per step of (data, augmentation, model)."""
    torch.manual_seed(seed)
    model = ContrastiveModel(build_encoder(encoder_name))
    sr, crop = model.encoder.sample_rate, model.encoder.crop_samples
    labeled = load_dataset("embedded", data_dir, task="tags")
    unlabeled = load_dataset("embedded", data_dir, task="unlabeled")
    sampler = SemiSupervisedSampler(labeled, unlabeled, batch_size=batch_size, ps=1.0, bs=0.5, n_views=2,
                                    crop_samples=crop, sample_rate=sr, seed=seed)
    chain = AugmentationChain(sr, severity=2)
    loss_fn = SemiSupConLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    times = []
    for k in range(steps + 1):  # step 0 warms up
        t0 = time.perf_counter()
        batch = sampler.batch(k)
        t1 = time.perf_counter()
        b, v, n = batch["audio"].shape
        audio = chain(batch["audio"].reshape(b * v, 1, n), generator=torch.Generator().manual_seed(k)).reshape(b, v, n)
        t2 = time.perf_counter()
        loss = loss_fn(model(audio), batch["labels"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        t3 = time.perf_counter()
        if k:
            times.append((t1 - t0, t2 - t1, t3 - t2))
    return np.median(np.array(times), axis=0)


def loop_seconds_per_step(data_dir, run_dir, steps, wait_policy):
    """Median s/step of ``python -m semisup.train`` in a fresh process (first 3 steps not timed).

    ``wait_policy`` sets ``OMP_WAIT_POLICY`` (read once, when torch loads OpenMP), None unsets it.
    """
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if wait_policy:
        env["OMP_WAIT_POLICY"] = wait_policy
    subprocess.run([sys.executable, "-m", "semisup.train", "--run-dir", str(run_dir),
                    "--labeled", f"embedded:{data_dir}?task=notes&label=pitch",
                    "--unlabeled", f"embedded:{data_dir}?task=unlabeled",
                    "--ps", "1", "--bs", "0.75", "--pitch-shift", "false",
                    "--steps", str(steps), "--checkpoint-every", str(steps), "--progress", "false"],
                   env=env, check=True, capture_output=True)
    clips_per_s = pd.read_csv(Path(run_dir) / "metrics.csv")["clips_per_s"].iloc[3:]
    batch_size = 32  # semisup.train's default
    return float(np.median(batch_size / clips_per_s))


def compare_wait_policies(data_dir, steps, rounds):
    """Print steps/s of the training loop with idle OpenMP threads spinning (before) or sleeping."""
    print(f"training loop (python -m semisup.train, pitch model, batch 32, {steps} steps per round, "
          f"{rounds} rounds), load {os.getloadavg()[0]:.1f}:")
    times = {None: [], "PASSIVE": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for policy in times:
                times[policy].append(loop_seconds_per_step(data_dir, Path(tmp) / f"{policy}{r}", steps, policy))
    before, now = (np.median(times[p]) for p in times)
    print(f"  before (OMP_WAIT_POLICY unset): {before:.3f} s/step = {1 / before:.2f} steps/s | "
          f"OMP_WAIT_POLICY=PASSIVE: {now:.3f} s/step = {1 / now:.2f} steps/s | speed-up {before / now:.2f}x "
          f"(per round: {', '.join(f'{b / n:.2f}x' for b, n in zip(times[None], times['PASSIVE'], strict=True))}; "
          f"load at the end {os.getloadavg()[0]:.1f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data/small")
    parser.add_argument("--encoder", default="small")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--baseline-steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--loop-steps", type=int, default=20)
    parser.add_argument("--loop-rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data_dir = repo_path(args.data_dir)
    if not (data_dir / "meta.json").exists():
        raise SystemExit(f"{data_dir} is not built: python -m semisup.data.embedded.build --size small --out {args.data_dir}")

    print(f"{args.threads} threads; batch {args.batch_size} clips x 2 views; data {data_dir}")
    rows = [(args.encoder, args.batch_size, args.steps), ("samplecnn", args.batch_size, args.baseline_steps)]
    results = {}
    for name, batch, steps in rows:
        data, aug, model = time_steps(name, data_dir, batch, steps)
        total = data + aug + model
        results[name] = total
        print(f"{name:>10}: {total:6.3f} s/step = {1 / total:5.2f} steps/s = {batch / total:6.1f} clips/s | "
              f"data {data:.3f} s ({100 * data / total:.0f} %), augmentation {aug:.3f} s ({100 * aug / total:.0f} %), "
              f"model {model:.3f} s")
    print(f"speed-up of {args.encoder} over samplecnn per step: {results['samplecnn'] / results[args.encoder]:.1f}x "
          f"(target for 'small': one step <= 0.5 s)")
    compare_wait_policies(data_dir, args.loop_steps, args.loop_rounds)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((12000, 512)).astype(np.float32)
    y = (x[:, :50] + rng.standard_normal((12000, 50)) > 1.5).astype(np.float32)  # 50 tags
    start = time.perf_counter()
    _, history = train_probe(x[:10000], y[:10000], x[10000:], y[10000:], "multilabel", 50, ProbeConfig(max_epochs=30, patience=30))
    elapsed = time.perf_counter() - start
    print(f"probe on 10 000 cached embeddings (512-d, 50 tags): {len(history)} epochs in {elapsed:.1f} s "
          f"({elapsed / len(history):.2f} s/epoch; target <= 30 s)")


if __name__ == "__main__":
    main()
