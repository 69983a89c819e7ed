import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from torch import nn

import semisup.probe as probe_module
from semisup.data.datasets import AudioDataset
from semisup.probe import ProbeConfig, append_results, extract_embeddings, probe_task, train_probe

SR = 8000
FREQS = [200.0, 500.0, 1000.0, 2000.0]


class SpectrumEncoder(nn.Module):
    """A fixed, deterministic 'encoder': log-magnitude spectrum pooled to 64 bins."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        spectrum = torch.fft.rfft(x[:, 0], n=1024).abs()[:, :512]
        return torch.log1p(self.scale * spectrum.reshape(len(x), 64, 8).mean(-1))


@pytest.fixture(scope="module")
def tone_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("tones")
    rng = np.random.default_rng(0)
    paths, labels, split = [], [], []
    for i in range(96):
        label = i % 4
        t = np.arange(int(0.5 * SR)) / SR
        audio = 0.5 * np.sin(2 * np.pi * FREQS[label] * t * rng.uniform(0.99, 1.01)) + 0.05 * rng.standard_normal(len(t))
        path = root / f"{i}.wav"
        sf.write(path, audio.astype(np.float32), SR)
        paths.append(path)
        labels.append(label)
        split.append(["train", "train", "valid", "test"][(i // 4) % 4])
    return AudioDataset(name="tones", root=root, paths=paths, split=np.array(split),
                        labels=np.array(labels, dtype=np.int64), task_type="multiclass",
                        classes=[str(f) for f in FREQS])


def test_probe_task_learns_tones_and_scores_corruptions(tone_dataset, tmp_path):
    def silence(crops):
        return crops * 0.0

    result = probe_task(SpectrumEncoder(), tone_dataset, sample_rate=SR, crop_samples=1024,
                        config=ProbeConfig(max_epochs=60, patience=60), cache_dir=tmp_path,
                        corruptions={"silence": silence}, progress=False)
    assert result.scores["accuracy"] >= 0.9
    assert result.scores["silence/accuracy"] <= 0.5  # all-silent input carries no class


def test_embeddings_average_crops_and_are_cached(tone_dataset, tmp_path, monkeypatch):
    encoder = SpectrumEncoder()
    paths = tone_dataset.paths[:3]
    first = extract_embeddings(encoder, paths, sample_rate=SR, crop_samples=1024, cache_dir=tmp_path, progress=False)
    assert first.shape == (3, 64)
    crops = probe_module.read_crops(paths[0], 1024, SR)
    assert crops.shape == (3, 1024)  # 4000 samples -> 3 whole crops
    assert np.allclose(first[0], encoder(crops[:, None]).mean(0).detach().numpy(), atol=1e-5)
    monkeypatch.setattr(probe_module, "read_crops", lambda *a, **k: pytest.fail("cache not used"))
    assert np.array_equal(first, extract_embeddings(encoder, paths, sample_rate=SR, crop_samples=1024, cache_dir=tmp_path, progress=False))
    encoder.scale.data.fill_(2.0)  # new weights -> new cache key -> recomputed
    with pytest.raises(pytest.fail.Exception):
        extract_embeddings(encoder, paths, sample_rate=SR, crop_samples=1024, cache_dir=tmp_path, progress=False)


def test_early_stopping_restores_best_weights():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 16)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    y_noisy = rng.integers(0, 2, 100)  # validation labels unrelated: overfitting shows fast
    probe, history = train_probe(x[:100], y[:100], x[100:], y_noisy, "multiclass", 2,
                                 ProbeConfig(max_epochs=100, patience=5))
    assert len(history) < 100  # stopped early
    with torch.no_grad():
        restored = nn.functional.cross_entropy(probe(torch.as_tensor(x[100:])), torch.as_tensor(y_noisy)).item()
    assert restored == pytest.approx(history["valid_loss"].min(), abs=1e-6)


def test_probe_is_deterministic():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = (rng.random((64, 3)) < 0.5).astype(np.float32)
    a, _ = train_probe(x, y, x, y, "multilabel", 3, ProbeConfig(max_epochs=3))
    b, _ = train_probe(x, y, x, y, "multilabel", 3, ProbeConfig(max_epochs=3))
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_append_results(tmp_path):
    path = tmp_path / "r.csv"
    append_results(path, [{"checkpoint": "a", "task": "t", "metric": "m", "value": 1.0, "seed": 0}])
    table = append_results(path, [{"checkpoint": "b", "task": "t", "metric": "m", "value": 2.0, "seed": 0}])
    assert list(pd.read_csv(path)["checkpoint"]) == ["a", "b"] == list(table["checkpoint"])


def test_bad_task_type(tone_dataset):
    unlabeled = AudioDataset(name="u", root=tone_dataset.root, paths=tone_dataset.paths, split=tone_dataset.split,
                             labels=None, task_type="unlabeled", classes=[])
    with pytest.raises(ValueError, match="no labels"):
        probe_task(SpectrumEncoder(), unlabeled, sample_rate=SR, crop_samples=1024)


def test_headline_picks_each_tasks_main_metric():
    from semisup.probe import headline

    table = pd.DataFrame({
        "task": ["key:key", "key:key", "tags:tags", "tags:tags", "notes:pitch", "tags:tags"],
        "metric": ["accuracy", "weighted", "auroc", "ap", "accuracy", "reverb/auroc"],
        "value": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    })
    assert dict(zip(headline(table)["task"], headline(table)["metric"], strict=True)) == {
        "key:key": "weighted", "tags:tags": "auroc", "notes:pitch": "accuracy"}
