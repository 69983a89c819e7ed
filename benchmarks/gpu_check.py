"""The GPU check: one command, a few minutes on one GPU, the figures docs/benchmarks.md reports.

    python benchmarks/gpu_check.py [--steps 40] [--clips 96] [--out gpu_check.json]
    python benchmarks/gpu_check.py --device cpu --smoke     # the same code paths, tiny, on a CPU

1. a prepared cache (``semisup.data.prepare``) of MTAT-like and FMA-like fixture trees
   (``semisup.data.fixtures``; 16 kHz mono and 44.1 kHz stereo mp3 → 22 050 Hz WAV);
2. the paper preset (``--preset paper``: SampleCNN, 2 × 59 535-sample views, batch 96,
   Adam 1e-4, fp32 as the authors) trained from that cache for ``--steps`` steps, and again
   with the ``--amp bf16`` opt-in (bf16 autocast):
   steps/s, clips/s and the data share of step time (time waiting for the loader);
3. the augmentation chain (Table 1) on the GPU: clips/s on ``[192, 1, 59 535]``;
4. the loss of one batch in fp32 and under bf16 autocast (same weights, same augmented
   batch): both values and their relative difference.

On a machine without CUDA it prints "no GPU" and exits 0, unless ``--device cpu`` asks
for the CPU (with ``--smoke``: the ``small`` encoder, batch 8, a few steps — what the
test suite runs so the script cannot rot before a GPU is lent). Figures go to stdout and,
with ``--out``, to a JSON file.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from semisup.augment import AugmentationChain
from semisup.data.fixtures import write_fma, write_mtat
from semisup.data.prepare import prepare
from semisup.loss import SemiSupConLoss
from semisup.train import TrainConfig, _build_model, build_sampler, train

SKIP_STEPS = 5  # warm-up steps left out of the medians (cudnn autotuning, worker start)


def prepared_cache(folder: Path, clips: int, seconds: float, workers: int) -> tuple[str, str]:
    """Write MTAT-like and FMA-like trees, prepare both at 22 050 Hz; return their specs."""
    mtat = write_mtat(folder / "MTAT", n_clips=clips, seconds=seconds)
    fma = write_fma(folder / "fma", n_tracks=clips, seconds=seconds)
    specs = []
    for source, name in ((f"mtat:{mtat}?subset=top50", "mtat_22k"), (f"fma:{fma}", "fma_22k")):
        prepare(source, folder / name, sample_rate=22050, workers=workers, progress=False)
        specs.append(f"prepared:{folder / name}")
    return specs[0], specs[1]


def training_speed(config: TrainConfig) -> dict:
    """Train ``config`` and summarise its metrics.csv (warm-up steps left out)."""
    start = time.perf_counter()
    run = train(config)
    wall = time.perf_counter() - start
    metrics = pd.read_csv(run / "metrics.csv").iloc[SKIP_STEPS:]
    clips = float(metrics["clips_per_s"].median())
    return {"clips_per_s": clips, "steps_per_s": clips / config.batch_size,
            "data_share": float(metrics["data_share"].median()), "wall_s": wall,
            "final_loss": float(metrics["loss"].iloc[-1])}


def chain_speed(device: torch.device, batch: int, crop_samples: int, repeats: int) -> float:
    """Clips/s of the training augmentation chain on ``[batch, 1, L]`` noise, on ``device``."""
    chain = AugmentationChain(22050, severity=2).to(device)
    x = torch.randn(batch, 1, crop_samples, device=device) * 0.1
    generator = torch.Generator(device=device).manual_seed(0)
    chain(x, generator=generator)  # warm-up (FFT plans, kernels)
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        chain(x, generator=generator)
        _sync(device)
        times.append(time.perf_counter() - start)
    return batch / statistics.median(times)


def loss_precision(config: TrainConfig, device: torch.device) -> dict:
    """The loss of one augmented batch in fp32 and under bf16 autocast, same weights."""
    torch.manual_seed(config.seed)
    model = _build_model(config, 0).to(device).eval()  # eval: BatchNorm uses its running statistics
    sampler, _ = build_sampler(config)
    batch = sampler.batch(0)
    b, v, n = batch["audio"].shape
    chain = AugmentationChain(model.encoder.sample_rate, severity=2).to(device)
    audio = chain(batch["audio"].to(device).reshape(b * v, 1, n),
                  generator=torch.Generator(device=device).manual_seed(0)).reshape(b, v, n)
    loss_fn = SemiSupConLoss(config.temperature, config.criterion, gather=False)
    labels = batch["labels"].to(device)
    with torch.no_grad():
        fp32 = loss_fn(model(audio).float(), labels).item()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            bf16 = loss_fn(model(audio).float(), labels).item()
    return {"fp32": fp32, "bf16": bf16, "relative_difference": abs(bf16 - fp32) / abs(fp32)}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--steps", type=int, default=40, help="training steps per precision")
    parser.add_argument("--clips", type=int, default=64, help="clips per fixture tree")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each fixture clip")
    parser.add_argument("--smoke", action="store_true", help="small encoder, batch 8, 3 steps")
    parser.add_argument("--out", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no GPU: torch.cuda.is_available() is False, nothing measured "
              "(--device cpu runs the same code on the CPU)")
        return 0
    device = torch.device(args.device)
    if args.smoke:
        args.steps, args.clips, args.seconds = SKIP_STEPS + 3, 6, 6.0
    report = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
              "torch": torch.__version__, "cpu_count": os.cpu_count(), "steps": args.steps}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        labeled, unlabeled = prepared_cache(folder, args.clips, args.seconds, workers=os.cpu_count() or 1)
        report["prepare_s"] = time.perf_counter() - start
        overrides = dict(labeled=labeled, unlabeled=unlabeled, steps=args.steps, device=str(device),
                         checkpoint_every=args.steps, progress=False)
        if args.smoke:
            overrides.update(encoder="small", sample_rate=0, crop_samples=0, batch_size=8, num_workers=0)
        for name in ("bf16", "fp32"):
            config = TrainConfig.from_preset("paper", run_dir=str(folder / f"run_{name}"), amp=name, **overrides)
            report[f"train_{name}"] = training_speed(config)
            print(f"paper preset, {name}: {report[f'train_{name}']}", flush=True)
        crop = config.crop_samples or 59535
        report["augment_clips_per_s"] = chain_speed(device, 16 if args.smoke else 192, crop, 3 if args.smoke else 10)
        report["loss"] = loss_precision(config, device)
    bf16, fp32 = report["train_bf16"], report["train_fp32"]
    print(f"\n{report['device']}: paper preset {fp32['steps_per_s']:.2f} steps/s fp32, "
          f"{bf16['steps_per_s']:.2f} steps/s bf16 ({bf16['steps_per_s'] / fp32['steps_per_s']:.2f} x); "
          f"data share of step time {fp32['data_share']:.0%} (fp32), {bf16['data_share']:.0%} (bf16)")
    print(f"augmentation chain on {device.type}: {report['augment_clips_per_s']:.0f} clips/s")
    print(f"one batch's loss: fp32 {report['loss']['fp32']:.5f}, bf16 {report['loss']['bf16']:.5f} "
          f"(relative difference {report['loss']['relative_difference']:.1e})")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
