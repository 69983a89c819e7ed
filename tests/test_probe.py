from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from torch import nn

import semisup.extract as extract_module
import semisup.probe as probe_module
from semisup.data.audio import AudioFileError, MissingAudioError, SkippedFiles
from semisup.data.datasets import AudioDataset
from semisup.data.fixtures import music
from semisup.encoders import random_encoder
from semisup.extract import CropEmbeddings, extract_embeddings
from semisup.probe import (
    MLPProbe,
    ProbeConfig,
    append_results,
    draw_crops,
    probe_task,
    train_probe,
)

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
    assert first.embeddings.shape == (3, 64) and first.kept.tolist() == [0, 1, 2] and first.skipped == {}
    crops = extract_module.read_crops(paths[0], 1024, SR)
    assert crops.shape == (3, 1024)  # 4000 samples -> 3 whole crops
    assert np.allclose(first.embeddings[0], encoder(crops[:, None]).mean(0).detach().numpy(), atol=1e-5)
    monkeypatch.setattr(extract_module, "read_crops", lambda *a, **k: pytest.fail("cache not used"))
    again = extract_embeddings(encoder, paths, sample_rate=SR, crop_samples=1024, cache_dir=tmp_path, progress=False)
    assert np.array_equal(first.embeddings, again.embeddings)
    encoder.scale.data.fill_(2.0)  # new weights -> new cache key -> recomputed
    with pytest.raises(pytest.fail.Exception):
        extract_embeddings(encoder, paths, sample_rate=SR, crop_samples=1024, cache_dir=tmp_path, progress=False)


def music_with_bad_files(folder):
    """Six 2.6 s music clips at 16 kHz (two crops of the small encoder each) with a zero-byte
    WAV and a corrupt one among them."""
    folder.mkdir()
    paths = []
    for i in range(6):
        paths.append(folder / f"{i}.wav")
        sf.write(paths[-1], music(np.random.default_rng(i), 2.6, 16000), 16000)
    (folder / "empty.wav").write_bytes(b"")
    (folder / "corrupt.wav").write_bytes(b"RIFF" + bytes(range(200)))
    return [*paths[:2], folder / "empty.wav", *paths[2:4], folder / "corrupt.wav", *paths[4:]]


def test_extraction_is_identical_for_any_number_of_workers(tone_dataset, tmp_path):
    paths = music_with_bad_files(tmp_path / "audio")
    encoder = random_encoder("small", seed=0)  # BatchNorm and convolutions: batching would show
    results = {}
    for workers in (0, 2):
        with pytest.warns(UserWarning, match="skipping bad audio file"):
            results[workers] = extract_embeddings(encoder, paths, sample_rate=16000, crop_samples=19683,
                                                  batch_crops=3, workers=workers, skip_bad=True, progress=False)
    assert np.array_equal(results[0].embeddings, results[2].embeddings)
    assert results[0].kept.tolist() == results[2].kept.tolist() == [0, 1, 3, 4, 6, 7]
    assert results[0].skipped == results[2].skipped and list(results[0].skipped) == [str(paths[2]), str(paths[5])]
    with torch.no_grad():  # the mean of each track's crop embeddings
        crops = extract_module.read_crops(paths[3], 19683, 16000)[:, None]  # [K, 1, L], K = 2
        assert np.allclose(results[2].embeddings[2], encoder(crops).mean(0).numpy(), atol=1e-5)


def test_the_cache_records_kept_and_skipped_files(tone_dataset, tmp_path, monkeypatch):
    paths = music_with_bad_files(tmp_path / "audio")
    options = dict(sample_rate=SR, crop_samples=1024, cache_dir=tmp_path / "cache", progress=False)
    with pytest.raises(AudioFileError, match="empty.wav is empty"):  # skip_bad=False: the first bad file
        extract_embeddings(SpectrumEncoder(), paths, **options)
    assert not (tmp_path / "cache").exists()  # nothing cached for an unfinished list
    with pytest.warns(UserWarning, match="skipping bad audio file"):
        fresh = extract_embeddings(SpectrumEncoder(), paths, skip_bad=True, **options)
    monkeypatch.setattr(extract_module, "read_crops", lambda *a, **k: pytest.fail("cache not used"))
    log = SkippedFiles()
    with pytest.warns(UserWarning, match="skipping bad audio file"):  # a cached list still names its bad files
        cached = extract_embeddings(SpectrumEncoder(), paths, skip_bad=True, skipped=log, **options)
    assert cached.kept.tolist() == fresh.kept.tolist() == [0, 1, 3, 4, 6, 7]
    assert np.array_equal(cached.embeddings, fresh.embeddings) and cached.skipped == fresh.skipped
    assert sorted(log.reasons) == sorted([str(paths[2]), str(paths[5])])
    with pytest.raises(AudioFileError, match="empty.wav is empty"):
        extract_embeddings(SpectrumEncoder(), paths, **options)


def test_the_cache_key_changes_when_a_file_changes(tone_dataset, tmp_path, monkeypatch):
    paths = music_with_bad_files(tmp_path / "audio")[:2]
    options = dict(sample_rate=SR, crop_samples=1024, cache_dir=tmp_path / "cache", progress=False)
    before = extract_embeddings(SpectrumEncoder(), paths, **options)
    sf.write(paths[1], music(np.random.default_rng(99), 2.6, 16000), 16000)  # other notes, same size
    reads = []
    real = extract_module.read_crops
    monkeypatch.setattr(extract_module, "read_crops", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    after = extract_embeddings(SpectrumEncoder(), paths, **options)
    assert reads == [str(p) for p in paths]  # recomputed, not read from the cache
    assert np.array_equal(before.embeddings[0], after.embeddings[0])
    assert not np.allclose(before.embeddings[1], after.embeddings[1])
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2


def test_a_missing_file_is_an_error_naming_it_even_when_skipping_bad_files(tone_dataset, tmp_path):
    paths = [tone_dataset.paths[0], tmp_path / "gone.wav"]
    with pytest.raises(MissingAudioError, match=r"1 of 2 audio files not found.*gone\.wav.*missing=drop"):
        extract_embeddings(SpectrumEncoder(), paths, sample_rate=SR, crop_samples=1024, skip_bad=True,
                           workers=2, progress=False)


def test_probe_task_counts_skipped_files_per_split_and_keeps_labels_aligned(tone_dataset, tmp_path):
    bad = {"train": tmp_path / "empty.wav", "test": tmp_path / "corrupt.wav"}
    bad["train"].write_bytes(b"")
    bad["test"].write_bytes(b"RIFF" + bytes(100))
    # Bad files carry a label no good file has at their position: misaligned labels would show.
    dataset = AudioDataset(
        name="tones", root=tone_dataset.root, paths=[bad["train"], *tone_dataset.paths, bad["test"]],
        split=np.array(["train", *tone_dataset.split, "test"]),
        labels=np.array([3, *tone_dataset.labels, 0], dtype=np.int64), task_type="multiclass",
        classes=tone_dataset.classes)
    with pytest.warns(UserWarning, match="skipping bad audio file"):
        result = probe_task(SpectrumEncoder(), dataset, sample_rate=SR, crop_samples=1024,
                            config=ProbeConfig(max_epochs=60, patience=60), progress=False)
    assert {k: v for k, v in result.scores.items() if k.startswith("n_skipped")} == {
        "n_skipped_train": 1, "n_skipped_valid": 0, "n_skipped_test": 1}
    assert result.scores["accuracy"] >= 0.9


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


def test_append_results_never_mixes_protocols(tmp_path):
    path = tmp_path / "r.csv"
    row = {"checkpoint": "a", "task": "t", "metric": "m", "value": 1.0, "seed": 0}
    append_results(path, [row])  # a file written before the protocol column: averaged
    with pytest.raises(ValueError, match=r"r.csv holds probe results of protocol \['averaged'\].*\['crops'\]"):
        append_results(path, [{**row, "protocol": "crops"}])
    assert len(pd.read_csv(path)) == 1  # untouched
    table = append_results(path, [{**row, "protocol": "averaged"}])
    assert len(table) == 2


# ------------------------------------------------------------------ the authors' protocol


def test_draw_crops_picks_one_crop_of_each_track_uniformly():
    crops = torch.arange(6, dtype=torch.float32)[:, None]  # [6, 1]: a crop's value is its index
    offsets = torch.tensor([0, 1, 4, 6])  # tracks of 1, 3 and 2 crops
    generator = torch.Generator().manual_seed(0)
    draws = torch.stack([draw_crops(crops, offsets, generator)[:, 0] for _ in range(3000)])  # [3000, 3]
    assert set(draws[:, 0].tolist()) == {0.0}
    for track, (lo, hi) in enumerate([(1, 4), (4, 6)], start=1):
        counts = torch.bincount(draws[:, track].long() - lo, minlength=hi - lo).float()
        assert counts.sum() == 3000 and (counts / 3000 - 1 / (hi - lo)).abs().max() < 0.03


def test_track_means_draw_nothing():
    generator = torch.Generator().manual_seed(0)
    state = generator.get_state()
    means = torch.randn(5, 4)
    assert torch.equal(draw_crops(means, torch.arange(6), generator), means)
    assert torch.equal(generator.get_state(), state)  # the averaged protocol's batches are unchanged


def _pools(rng, n_tracks, informative):
    """Pools of 4 crops per track: the label shows in ``informative`` of them, the rest are noise."""
    y = rng.integers(0, 2, n_tracks)
    crops = rng.standard_normal((n_tracks, 4, 8)).astype(np.float32)
    crops[:, :informative, 0] += 3.0 * (2 * y[:, None] - 1)
    pool = CropEmbeddings(crops.reshape(-1, 8), np.arange(0, 4 * n_tracks + 1, 4), np.arange(n_tracks), {})
    return pool, y


def test_a_probe_on_crop_pools_sees_every_crop_and_is_seeded():
    rng = np.random.default_rng(0)
    train, y_train = _pools(rng, 200, informative=2)
    valid, y_valid = _pools(rng, 100, informative=2)
    config = ProbeConfig(max_epochs=30, patience=30, hidden=(), dropout=0.0)
    a, history = train_probe(train, y_train, valid, y_valid, "multiclass", 2, config)
    b, _ = train_probe(train, y_train, valid, y_valid, "multiclass", 2, config)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    # Valid draws change every epoch: its loss fluctuates even once training has settled.
    assert history["valid_loss"].iloc[-10:].std() > 0
    with torch.no_grad():  # every crop of the pool was standardised over
        assert torch.allclose(a.mean, torch.as_tensor(train.crops).mean(0), atol=1e-6)


def test_the_averaged_protocol_is_train_probe_on_track_means():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    one_crop_pools = CropEmbeddings(x, np.arange(65), np.arange(64), {})
    a, _ = train_probe(x, y, x, y, "multiclass", 2, ProbeConfig(max_epochs=5))
    b, _ = train_probe(one_crop_pools, y, one_crop_pools, y, "multiclass", 2, ProbeConfig(max_epochs=5))
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_train_probe_needs_one_target_per_track():
    pool, y = _pools(np.random.default_rng(0), 10, informative=4)
    with pytest.raises(ValueError, match="10 train and 10 valid tracks embedded but 40 and 10 targets"):
        train_probe(pool, np.repeat(y, 4), pool, y, "multiclass", 2)


@pytest.mark.parametrize("protocol, pooled", [("crops", ["train", "valid"]), ("averaged", [])])
def test_probe_task_trains_on_pools_and_tests_on_means(tone_dataset, protocol, pooled, monkeypatch):
    calls = []
    real_pool, real_mean = probe_module.extract_crop_embeddings, probe_module.extract_embeddings
    split_of = {str(p): s for p, s in zip(tone_dataset.paths, tone_dataset.split, strict=True)}
    monkeypatch.setattr(probe_module, "extract_crop_embeddings",
                        lambda enc, paths, **k: calls.append(("pool", split_of[str(paths[0])])) or real_pool(enc, paths, **k))
    monkeypatch.setattr(probe_module, "extract_embeddings",
                        lambda enc, paths, **k: calls.append(("mean", split_of[str(paths[0])])) or real_mean(enc, paths, **k))
    result = probe_task(SpectrumEncoder(), tone_dataset, sample_rate=SR, crop_samples=1024, progress=False,
                        config=ProbeConfig(max_epochs=60, patience=60, protocol=protocol))
    assert sorted(calls) == sorted([("pool", s) for s in pooled] +
                                   [("mean", s) for s in ("train", "valid", "test") if s not in pooled])
    assert result.scores["accuracy"] >= 0.9 and result.extra["config"]["protocol"] == protocol


def test_an_unknown_protocol_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"probe protocol 'mean': choose one of \('crops', 'averaged'\)"):
        ProbeConfig(protocol="mean")


def test_bad_task_type(tone_dataset):
    unlabeled = AudioDataset(name="u", root=tone_dataset.root, paths=tone_dataset.paths, split=tone_dataset.split,
                             labels=None, task_type="unlabeled", classes=[])
    with pytest.raises(ValueError, match="no labels"):
        probe_task(SpectrumEncoder(), unlabeled, sample_rate=SR, crop_samples=1024)


def test_headline_picks_each_tasks_main_metric():
    from semisup.probe import headline

    table = pd.DataFrame({
        "task": ["key:key", "key:key", "tags:tags", "tags:tags", "notes:pitch", "tags:tags", "emo", "emo"],
        "metric": ["accuracy", "weighted", "auroc", "ap", "accuracy", "reverb/auroc", "n_skipped_train",
                   "r2_valence"],
        "value": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 3.0, 0.7],
    })
    assert dict(zip(headline(table)["task"], headline(table)["metric"], strict=True)) == {
        "key:key": "weighted", "tags:tags": "auroc", "notes:pitch": "accuracy", "emo": "r2_valence"}
    assert "n_skipped_train" not in set(probe_module.score_rows(table)["metric"])


# ------------------------------------------------------------------ Table 5 probe settings

MLP, LINEAR = (512,), ()


# Table 5's head and dropout; the authors' configs' (config/finetuning/cross-dataset/*.yaml)
# max epochs, early-stopping patience and lr; Adam weight decay 1e-6 and batch 64 everywhere.
@pytest.mark.parametrize("info, hidden, dropout, max_epochs, patience, lr", [
    ({"kind": "mtat", "subset": "top50"}, MLP, 0.1, 100, 15, 3e-4),
    ({"kind": "mtat", "subset": "all"}, MLP, 0.1, 100, 15, 3e-4),  # N/A in Table 5: as top50
    ({"kind": "jamendo", "subset": "top50tags"}, MLP, 0.1, 200, 7, 3e-4),
    ({"kind": "jamendo", "subset": "moodtheme"}, MLP, 0.1, 200, 7, 3e-4),
    ({"kind": "jamendo", "subset": "genre"}, MLP, 0.1, 200, 7, 3e-4),
    ({"kind": "jamendo", "subset": "instrument"}, MLP, 0.1, 200, 7, 3e-4),
    ({"kind": "nsynth", "label": "pitch"}, MLP, 0.0, 20, 2, 3e-4),
    ({"kind": "nsynth", "label": "family"}, MLP, 0.1, 20, 2, 3e-4),
    ({"kind": "giantsteps"}, LINEAR, 0.2, 200, 50, 3e-4),
    ({"kind": "gtzan"}, MLP, 0.1, 200, 50, 3e-4),
    ({"kind": "vocalset", "label": "singer"}, LINEAR, 0.2, 200, 50, 3e-4),
    ({"kind": "vocalset", "label": "technique"}, LINEAR, 0.2, 200, 50, 3e-4),
    ({"kind": "medleydb"}, LINEAR, 0.2, 200, 10, 3e-4),
    ({"kind": "emomusic"}, LINEAR, 0.1, 200, 200, 1e-4),
    # Embedded stand-ins take their counterpart's row.
    ({"kind": "embedded", "task": "notes", "label": "pitch"}, MLP, 0.0, 20, 2, 3e-4),
    ({"kind": "embedded", "task": "notes", "label": "family"}, MLP, 0.1, 20, 2, 3e-4),
    ({"kind": "embedded", "task": "notes", "label": "instrument"}, MLP, 0.1, 20, 2, 3e-4),
    ({"kind": "embedded", "task": "tags", "label": "tags"}, MLP, 0.1, 100, 15, 3e-4),
    ({"kind": "embedded", "task": "key", "label": "key"}, LINEAR, 0.2, 200, 50, 3e-4),
    ({"kind": "embedded", "task": "style", "label": "style"}, MLP, 0.1, 200, 50, 3e-4),
    # A prepared copy takes its source's row.
    ({"kind": "prepared", "source_kind": "giantsteps", "source": "giantsteps:/d"}, LINEAR, 0.2, 200, 50, 3e-4),
    ({"kind": "prepared", "source_kind": "nsynth", "label": "pitch"}, MLP, 0.0, 20, 2, 3e-4),
])
def test_every_table5_row_is_found_from_the_dataset_info(info, hidden, dropout, max_epochs, patience, lr, recwarn):
    config = probe_module.probe_config(SimpleNamespace(name="d", info=info))
    assert (config.hidden, config.dropout, config.max_epochs, config.patience, config.lr) == (
        hidden, dropout, max_epochs, patience, lr)
    assert (config.weight_decay, config.batch_size, config.protocol) == (1e-6, 64, "crops")
    assert not recwarn.list  # a known dataset is not reported as unknown


def test_every_probe_config_row_is_pinned():
    pinned = {"mtat:top50", "mtat:all", "jamendo:top50tags", "jamendo:moodtheme", "jamendo:genre",
              "jamendo:instrument", "nsynth:pitch", "nsynth:family", "giantsteps", "gtzan", "vocalset:singer",
              "vocalset:technique", "medleydb", "emomusic"}
    assert set(probe_module.PROBE_CONFIGS) == pinned  # a new row needs its line in the table above


def test_a_dataset_without_a_table5_row_gets_the_default_with_a_warning(tone_dataset):
    with pytest.warns(UserWarning, match=r"no Table 5 probe settings for dataset 'tones' \(key None\); "
                                         r"using the default: hidden=\(512,\), dropout=0.1, lr=0.0003"):
        assert probe_module.probe_config(tone_dataset) == ProbeConfig()
    with pytest.warns(UserWarning, match="'nsynth:source'"):
        probe_module.probe_config(SimpleNamespace(name="nsynth-source", info={"kind": "nsynth", "label": "source"}))


def test_probe_config_returns_a_copy():
    config = probe_module.probe_config(SimpleNamespace(name="g", info={"kind": "giantsteps"}))
    config.dropout = 0.9
    assert probe_module.PROBE_CONFIGS["giantsteps"].dropout == 0.2


def test_a_linear_probe_drops_its_input_in_train_mode_only():
    probe = MLPProbe(64, 64, hidden=(), dropout=0.2)  # GiantSteps: linear, 0.2
    assert [type(m) for m in probe.layers] == [nn.Dropout, nn.Linear]
    with torch.no_grad():  # identity head: the output shows what reaches the Linear layer
        probe.layers[1].weight.copy_(torch.eye(64))
        probe.layers[1].bias.zero_()
    x = torch.ones(32, 64)
    torch.manual_seed(0)
    probe.train()
    y = probe(x)
    assert set(y.unique().tolist()) == {0.0, 1.25}  # dropped, or kept and scaled by 1 / (1 - p)
    assert (y == 0).float().mean().item() == pytest.approx(0.2, abs=0.03)
    probe.eval()
    assert torch.equal(probe(x), x)
    mlp = MLPProbe(64, 3, hidden=(512,), dropout=0.1)
    assert [type(m) for m in mlp.layers] == [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]


def test_probe_run_caps_each_tasks_own_schedule_and_records_the_protocol(tiny_run, tiny_data, monkeypatch):
    seen = {}
    real = probe_module.probe_task
    monkeypatch.setattr(probe_module, "probe_task",
                        lambda enc, dataset, **k: seen.setdefault(dataset.info["label"], k["config"]) and real(
                            enc, dataset, **{**k, "config": replace(k["config"], max_epochs=1)}))
    tasks = [f"embedded:{tiny_data}?task=notes&label=pitch", f"embedded:{tiny_data}?task=key"]
    table = probe_module.probe_run(tiny_run, tasks, max_epochs=30, protocol="averaged", progress=False)
    assert (seen["pitch"].max_epochs, seen["pitch"].patience) == (20, 2)  # NSynth's 20 < 30: kept
    assert (seen["key"].max_epochs, seen["key"].patience) == (30, 50)  # GiantSteps' 200 capped at 30
    assert {c.protocol for c in seen.values()} == {"averaged"} and set(table["protocol"]) == {"averaged"}
    with pytest.raises(ValueError, match="probe protocol 'random'"):
        probe_module.probe_run(tiny_run, tasks, protocol="random", progress=False)
