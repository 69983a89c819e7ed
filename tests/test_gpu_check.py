"""benchmarks/gpu_check.py runs its code paths on a CPU, so it is ready the day a GPU is lent."""

import json
import subprocess
import sys

import pytest
import torch

from semisup.paths import repo_root

SCRIPT = str(repo_root() / "benchmarks" / "gpu_check.py")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present: the script would measure it")
def test_without_a_gpu_it_says_so():
    result = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("no GPU")


@pytest.mark.slow
def test_smoke_run_on_cpu_reports_every_figure(tmp_path):
    out = tmp_path / "gpu_check.json"
    result = subprocess.run([sys.executable, SCRIPT, "--device", "cpu", "--smoke", "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    for precision in ("bf16", "fp32"):
        figures = report[f"train_{precision}"]
        assert figures["steps_per_s"] > 0 and 0 <= figures["data_share"] <= 1
    assert report["augment_clips_per_s"] > 0
    assert report["loss"]["fp32"] > 0 and report["loss"]["relative_difference"] == 0  # no autocast on CPU
    assert "steps/s fp32" in result.stdout and "augmentation chain on cpu" in result.stdout
