import numpy as np
import pytest
import soundfile as sf
import torch
from torch.utils.data import DataLoader

from semisup.data.audio import AudioFileError
from semisup.data.datasets import AudioDataset
from semisup.data.sampler import SemiSupervisedSampler
from semisup.loss import contrastive_target

SR = 8000
L = 100  # crop samples
FILE_SAMPLES = 1000
BASE = 20_000  # file j holds samples j * BASE + i, i < FILE_SAMPLES (encoded as a float ramp)
SCALE = 2.0**-20


def write_ramps(folder, first_id, n):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for j in range(first_id, first_id + n):
        x = ((j * BASE + np.arange(FILE_SAMPLES)) * SCALE).astype(np.float32)
        sf.write(folder / f"{j:03d}.wav", x, SR, subtype="FLOAT")
        paths.append(folder / f"{j:03d}.wav")
    return paths


def decode(audio):
    idx = np.rint(audio.numpy().astype(np.float64) / SCALE).astype(np.int64)
    return idx // BASE, idx % BASE  # file id, sample position


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("sampler")
    lab_paths = write_ramps(root / "labeled", 0, 40)
    unl_paths = write_ramps(root / "unlabeled", 100, 50)
    split = ["train"] * 30 + ["valid"] * 5 + ["test"] * 5
    labeled = AudioDataset("lab", root, lab_paths, split, np.arange(40, dtype=np.int64) % 4,
                           "multiclass", ["a", "b", "c", "d"])
    tags = np.zeros((40, 3), np.float32)
    tags[np.arange(40), np.arange(40) % 3] = 1
    tags[::4, 2] = 1
    tagged = AudioDataset("tags", root, lab_paths, split, tags, "multilabel", ["x", "y", "z"])
    unlabeled = AudioDataset("unl", root, unl_paths, ["train"] * 50, None, "unlabeled", [])
    return {"root": root, "labeled": labeled, "tagged": tagged, "unlabeled": unlabeled}


def make(data, **kwargs):
    args = dict(labeled=data["labeled"], unlabeled=data["unlabeled"], batch_size=8, ps=1.0, bs=0.5,
                n_views=2, crop_samples=L, sample_rate=SR, seed=0)
    args.update(kwargs)
    return SemiSupervisedSampler(**args)


def test_batch_layout_labels_and_adjacent_views(data):
    sampler = make(data)
    batch = sampler.batch(0)
    assert batch["audio"].shape == (8, 2, L) and batch["audio"].dtype == torch.float32
    assert batch["labels"].dtype == torch.int64 and batch["labels"].shape == (8,)
    assert batch["labeled"].tolist() == [True] * 4 + [False] * 4
    assert batch["source"].tolist() == [0] * 4 + [1] * 4
    assert (batch["labels"][4:] == -1).all()
    file_id, position = decode(batch["audio"])  # [B, V, L] each
    for b in range(8):
        # Both views come from the same file, the one the batch says it read ...
        expected = int(batch["index"][b]) + (100 if b >= 4 else 0)
        assert (file_id[b] == expected).all()
        # ... each view is contiguous, and view 1 starts right where view 0 ends.
        flat = position[b].reshape(-1)
        assert np.array_equal(np.diff(flat), np.ones(2 * L - 1))
        assert position[b, 1, 0] == position[b, 0, -1] + 1
    labeled_rows = batch["index"][:4]
    assert torch.equal(batch["labels"][:4], torch.as_tensor(data["labeled"].labels[labeled_rows]))
    target = contrastive_target(batch["labels"], n_views=2)
    assert target.shape == (16, 16)


def test_multilabel_labels_have_zero_rows_for_unlabeled(data):
    batch = make(data, labeled=data["tagged"], bs=0.25).batch(3)
    labels = batch["labels"]
    assert labels.dtype == torch.float32 and labels.shape == (8, 3)
    assert (labels[2:] == 0).all() and (labels[:2].sum(1) >= 1).all()
    assert torch.equal(labels[:2], torch.as_tensor(data["tagged"].labels[batch["index"][:2]]))
    assert contrastive_target(labels, n_views=2).shape == (16, 16)


def test_realised_fractions_and_ps_applied_once(data):
    sampler = make(data, batch_size=10, bs=0.25, ps=0.5)
    assert (sampler.n_labeled, sampler.n_unlabeled) == (2, 8)
    seen_labeled, n_labeled = set(), 0
    for k in range(30):
        batch = sampler.batch(k)
        n_labeled += int(batch["labeled"].sum())
        assert batch["labeled"][:2].all() and not batch["labeled"][2:].any()
        seen_labeled.update(batch["index"][batch["labeled"]].tolist())
    assert n_labeled / (30 * 10) == 0.2  # int(10 * 0.25) = 2 per batch
    # ps = 0.5 keeps int(30 * 0.5) = 15 train clips (not 0.25 * 30: applied once), none
    # from valid/test, and 60 draws see all of them.
    assert len(seen_labeled) == 15 and max(seen_labeled) < 30


def test_each_epoch_visits_every_clip_once(data):
    sampler = make(data, batch_size=10, bs=0.5, ps=1.0)  # 5 labeled per batch, 30 clips
    for epoch in range(2):
        rows = np.concatenate([sampler.batch(k)["index"][:5].numpy()
                               for k in range(6 * epoch, 6 * epoch + 6)])
        assert sorted(rows.tolist()) == list(range(30))
    unlabeled_rows = np.concatenate([sampler.batch(k)["index"][5:].numpy() for k in range(10)])
    assert sorted(unlabeled_rows.tolist()) == list(range(50))  # independent cycle of 50
    first, second = (np.concatenate([sampler.batch(k)["index"][:5].numpy() for k in ks])
                     for ks in (range(6), range(6, 12)))
    assert not np.array_equal(first, second)  # reshuffled


def test_seed_determinism_and_resume(data):
    a, b, c = make(data, seed=1), make(data, seed=1), make(data, seed=2)
    batches_a = [next(iter_) for iter_ in [iter(a)] for _ in range(6)]
    for k, batch in enumerate(batches_a):
        assert batch["batch_index"] == k
        assert torch.equal(batch["audio"], b.batch(k)["audio"])
    assert a.state_dict() == {"next_batch": 6}
    assert not torch.equal(batches_a[0]["audio"], c.batch(0)["audio"])
    resumed = make(data, seed=1)
    resumed.load_state_dict({"next_batch": 4})
    it = iter(resumed)
    for k in (4, 5):
        batch = next(it)
        assert batch["batch_index"] == k
        assert torch.equal(batch["audio"], batches_a[k]["audio"])
        assert torch.equal(batch["labels"], batches_a[k]["labels"])
    with pytest.raises(ValueError, match="next_batch"):
        resumed.load_state_dict({"step": 3})
    with pytest.raises(ValueError, match="next_batch"):
        resumed.load_state_dict({"next_batch": -1})


@pytest.mark.parametrize("workers", [1, 2])
def test_workers_give_the_same_batches_in_order(data, workers):
    reference = list(DataLoader(make(data, num_batches=5), batch_size=None, num_workers=0))
    loader = DataLoader(make(data, num_batches=5), batch_size=None, num_workers=workers)
    got = list(loader)
    assert [b["batch_index"] for b in got] == [0, 1, 2, 3, 4]
    for ref, batch in zip(reference, got, strict=True):
        assert torch.equal(ref["audio"], batch["audio"])
        assert torch.equal(ref["labels"], batch["labels"])
        assert torch.equal(ref["index"], batch["index"])


def test_workers_resume_mid_stream(data):
    reference = [make(data).batch(k) for k in range(3, 7)]
    sampler = make(data, num_batches=7)
    sampler.load_state_dict({"next_batch": 3})
    got = list(DataLoader(sampler, batch_size=None, num_workers=2))
    assert [b["batch_index"] for b in got] == [3, 4, 5, 6]
    assert all(torch.equal(r["audio"], g["audio"]) for r, g in zip(reference, got, strict=True))


def test_ranks_draw_disjoint_slices_of_the_global_batch(data):
    ranks = [make(data, rank=r, world_size=2) for r in range(2)]
    single = make(data, batch_size=16)  # the same global batch on one rank
    for k in range(4):
        r0, r1 = ranks[0].batch(k), ranks[1].batch(k)
        assert not torch.equal(r0["audio"], r1["audio"])
        assert torch.equal(r0["audio"], make(data, rank=0, world_size=2).batch(k)["audio"])
        union_labeled = sorted(r0["index"][:4].tolist() + r1["index"][:4].tolist())
        assert union_labeled == sorted(single.batch(k)["index"][:8].tolist())
        union_unlabeled = sorted(r0["index"][4:].tolist() + r1["index"][4:].tolist())
        assert union_unlabeled == sorted(single.batch(k)["index"][8:].tolist())
    # Within one epoch the two ranks never draw the same labeled clip.
    drawn = [ranks[r].batch(k)["index"][:4].tolist() for k in range(3) for r in range(2)]
    assert len({i for rows in drawn for i in rows}) == 24


def test_pure_self_supervised_and_pure_supervised(data):
    for sampler in (make(data, ps=0.0), make(data, bs=0.0), make(data, labeled=None, bs=0.0)):
        batch = sampler.batch(0)
        assert not batch["labeled"].any() and (batch["labels"] == -1).all()
        assert (batch["source"] == 1).all()
    supervised = make(data, bs=1.0, unlabeled=None)
    batch = supervised.batch(0)
    assert batch["labeled"].all() and (batch["labels"] >= 0).all() and (batch["source"] == 0).all()


def test_dropped_labels_join_the_pool_only_when_asked(data):
    sampler = make(data, ps=0.5, keep_dropped_as_unlabeled=True)
    kept = set(sampler.labeled_source.index.tolist())
    source = sampler.unlabeled_source
    dropped = set(source.index[source.origin == 2].tolist())
    assert len(kept) == 15 and len(dropped) == 15 and not kept & dropped
    assert kept | dropped == set(range(30))
    assert len(make(data, ps=0.5).unlabeled_source) == 50
    only_dropped = make(data, ps=0.5, unlabeled=None, keep_dropped_as_unlabeled=True)
    sources = torch.cat([only_dropped.batch(k)["source"] for k in range(5)])
    assert set(sources.tolist()) == {0, 2}


def test_edge_case_errors(data):
    with pytest.raises(ValueError, match="labeled is None"):
        make(data, labeled=None)
    with pytest.raises(ValueError, match=r"int\(1 \* 0.5\) = 0 labeled"):
        make(data, batch_size=1)
    with pytest.raises(ValueError, match="regression.*class labels"):
        regression = AudioDataset("emo", "/", data["labeled"].paths, data["labeled"].split,
                                  np.zeros((40, 2), np.float32), "regression", ["a", "v"])
        make(data, labeled=regression)
    with pytest.raises(ValueError, match="has no 'train' clips"):
        make(data, labeled=data["labeled"].subset("test"))
    with pytest.raises(ValueError, match=r"keeps int\(30 \* 0.01\) = 0"):
        make(data, ps=0.01)
    with pytest.raises(ValueError, match="unlabeled pool.*empty.*keep_dropped_as_unlabeled"):
        make(data, unlabeled=None)
    with pytest.raises(ValueError, match="bs=1.*ps=0"):
        make(data, bs=1.0, ps=0.0)
    with pytest.raises(TypeError, match="labeled must be an AudioDataset"):
        make(data, labeled="mtat")
    with pytest.raises(TypeError, match="no len"):
        len(make(data))
    assert len(make(data, num_batches=3)) == 3


@pytest.mark.parametrize(
    "name, value",
    [("ps", 1.5), ("ps", True), ("bs", -0.1), ("bs", float("nan")), ("n_views", 0),
     ("batch_size", 0), ("crop_samples", 0), ("sample_rate", 0), ("seed", -1), ("world_size", 0),
     ("num_batches", -1), ("n_views", 2.0), ("split", "dev")],
)
def test_parameters_are_validated(data, name, value):
    with pytest.raises(ValueError, match=name):
        make(data, **{name: value})


def test_rank_must_be_below_world_size(data):
    with pytest.raises(ValueError, match="rank must be < world_size"):
        make(data, rank=2, world_size=2)


def test_bad_files_raise_or_are_skipped_reproducibly(data, tmp_path):
    paths = write_ramps(tmp_path, 200, 12)
    paths[1].write_bytes(b"garbage")
    paths[2].unlink()
    x = np.zeros(FILE_SAMPLES, np.float32)
    x[::50] = np.nan  # inside every chunk (only decoded samples are checked)
    sf.write(paths[3], x, SR, subtype="FLOAT")
    pool = AudioDataset("pool", tmp_path, paths, ["train"] * 12, None, "unlabeled", [])
    with pytest.raises(AudioFileError, match=r"20[123]\.wav"):
        for k in range(6):
            make(data, unlabeled=pool).batch(k)
    runs = []
    for _ in range(2):
        sampler = make(data, unlabeled=pool, skip_bad=True)
        with pytest.warns(UserWarning, match="skipping bad audio file"):
            batches = [sampler.batch(k) for k in range(6)]
        runs.append(batches)
        assert all(b["audio"].shape == (8, 2, L) for b in batches)
        # 24 unlabeled draws = 2 epochs of 12 files: each bad file is met twice.
        assert sum(b["n_skipped"] for b in batches) == sampler.skipped.count >= 6
        assert len(sampler.skipped) == 3
        for b in batches:  # replacements are good files of the same pool
            file_id, _ = decode(b["audio"][4:])
            assert set(file_id.flatten().tolist()) <= {200 + i for i in range(12)} - {201, 202, 203}
    assert all(torch.equal(a["audio"], b["audio"]) for a, b in zip(*runs, strict=True))


def test_all_bad_pool_fails_instead_of_looping(data, tmp_path):
    paths = [tmp_path / f"bad{i}.wav" for i in range(3)]
    for p in paths:
        p.write_bytes(b"nope")
    pool = AudioDataset("pool", tmp_path, paths, ["train"] * 3, None, "unlabeled", [])
    sampler = make(data, unlabeled=pool, skip_bad=True)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="mostly unreadable"):
        sampler.batch(0)


def test_batch_labels_are_the_labels_of_the_batch_without_reading_audio(data):
    sampler = make(data, labeled=data["tagged"], bs=0.5)
    for k in (0, 3, 7):
        assert np.array_equal(sampler.batch_labels(k), sampler.batch(k)["labels"][:4].numpy())
    assert make(data, ps=0.0, bs=0.0).batch_labels(0) is None
