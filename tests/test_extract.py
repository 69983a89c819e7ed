"""semisup.extract: crop pools (offsets, cache, workers) beside the track means of test_probe."""

import hashlib

import numpy as np
import pytest
import soundfile as sf
import torch

import semisup.extract as extract_module
from semisup.data.audio import crop_starts, read_audio, read_crop_pool
from semisup.data.fixtures import music
from semisup.encoders import random_encoder
from semisup.extract import (
    CropEmbeddings,
    extract_crop_embeddings,
    extract_embeddings,
    file_fingerprints,
    weights_hash,
)

SR = 16000
L = 19683  # the small encoder's crop


def test_a_4s_note_offers_three_offsets_of_a_2_7s_crop():
    # NSynth: 4 s at 22 050 Hz, crop 59 535, hop L // 4 = 14 883: 0, 0.65 s, 1.3 s (the end).
    starts = crop_starts(4 * 22050, 59535, 59535 // 4)
    assert starts.tolist() == [0, 14332, 28665]


@pytest.mark.parametrize("n_samples, expected", [
    (100, [0]),  # shorter than a crop: one (zero-padded) crop
    (1000, [0]),  # exactly one crop
    (1001, [0, 1]),  # one sample of slack: both ends
    (1500, [0, 250, 500]),  # 500 of slack at hop 250
    (1600, [0, 200, 400, 600]),  # 600 of slack: 4 offsets, 200 apart (<= hop)
])
def test_crop_starts_span_the_track_at_most_a_hop_apart(n_samples, expected):
    assert crop_starts(n_samples, 1000, 250).tolist() == expected


def test_a_long_track_costs_max_crops_spread_over_all_of_it():
    starts = crop_starts(600 * 22050, 59535, 59535 // 4, max_crops=64)  # a 10 min track
    assert len(starts) == 64 and starts[0] == 0 and starts[-1] == 600 * 22050 - 59535
    gaps = np.diff(starts)
    assert gaps.max() - gaps.min() <= 1  # evenly spread


def test_crop_starts_rejects_a_bad_request():
    with pytest.raises(ValueError, match="hop_samples"):
        crop_starts(1000, 100, 0)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Three music clips at 16 kHz: 4 s, 2.6 s and 1 s (shorter than one crop)."""
    folder = tmp_path_factory.mktemp("clips")
    paths = []
    for i, seconds in enumerate((4.0, 2.6, 1.0)):
        paths.append(folder / f"{i}.wav")
        sf.write(paths[-1], music(np.random.default_rng(i), seconds, SR), SR)
    return paths


def test_read_crop_pool_cuts_the_track_at_crop_starts(clips):
    audio = read_audio(clips[0], SR)  # [64 000]
    pool = read_crop_pool(clips[0], L, SR, hop_samples=L // 4)
    starts = crop_starts(len(audio), L, L // 4)
    assert pool.shape == (len(starts), L) and len(starts) == 11  # ceil(44 317 / 4 920) + 1
    for crop, start in zip(pool, starts, strict=True):
        assert torch.equal(crop, audio[start:start + L])
    short = read_crop_pool(clips[2], L, SR, hop_samples=L // 4)
    assert short.shape == (1, L) and short[0, SR:].abs().max() == 0  # zero-padded


def test_pool_embeddings_are_each_crops_and_identical_for_any_number_of_workers(clips, tmp_path):
    encoder = random_encoder("small", seed=0)  # BatchNorm and convolutions: batching would show
    results = {workers: extract_crop_embeddings(encoder, clips, sample_rate=SR, crop_samples=L, batch_crops=3,
                                                workers=workers, progress=False) for workers in (0, 2)}
    assert np.array_equal(results[0].crops, results[2].crops)
    pool = results[0]
    assert pool.offsets.tolist() == [0, 11, 11 + 6, 11 + 6 + 1] and pool.kept.tolist() == [0, 1, 2]
    assert pool.crops.dtype == np.float16 and pool.crops.shape == (18, 512)
    with torch.no_grad():
        expected = encoder(read_crop_pool(clips[1], L, SR, hop_samples=L // 4)[:, None]).numpy()  # [6, 512]
    assert np.allclose(pool.crops[11:17].astype(np.float32), expected, rtol=2e-3, atol=1e-3)


def test_pools_are_cached_apart_from_means_and_old_mean_caches_still_read(clips, tmp_path, monkeypatch):
    encoder = random_encoder("small", seed=0)
    options = dict(sample_rate=SR, crop_samples=L, cache_dir=tmp_path, progress=False)
    means = extract_embeddings(encoder, clips, **options)
    pool = extract_crop_embeddings(encoder, clips, **options)
    assert len(list(tmp_path.glob("*.npz"))) == 2  # disjoint keys: never read one as the other
    # A mean cache written before pools existed has exactly this key (CACHE_VERSION 2): reused.
    old_key = hashlib.sha256(repr((2, weights_hash(encoder), "cpu", file_fingerprints(clips), SR, L, 64, ""))
                             .encode()).hexdigest()[:24]
    assert (tmp_path / f"{old_key}.npz").exists()
    monkeypatch.setattr(extract_module, "read_crop_pool", lambda *a, **k: pytest.fail("pool cache not used"))
    monkeypatch.setattr(extract_module, "read_crops", lambda *a, **k: pytest.fail("mean cache not used"))
    again = extract_crop_embeddings(encoder, clips, **options)
    assert isinstance(again, CropEmbeddings) and np.array_equal(again.crops, pool.crops)
    assert np.array_equal(extract_embeddings(encoder, clips, **options).embeddings, means.embeddings)
    with pytest.raises(pytest.fail.Exception):  # another hop is another pool
        extract_crop_embeddings(encoder, clips, hop_samples=L // 2, **options)
