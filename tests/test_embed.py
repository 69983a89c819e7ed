"""python -m semisup.embed: whole-track embeddings of a folder of the user's own audio."""

import textwrap

import numpy as np
import pytest
import soundfile as sf

from semisup import embed
from semisup.data.fixtures import music, write_mp3
from semisup.extract import extract_embeddings, weights_hash
from semisup.train import load_encoder


@pytest.fixture
def my_music(tmp_path):
    """A user's folder: audio in nested folders, plus an unreadable file and non-audio files."""
    root = tmp_path / "My Music"
    root.mkdir()
    sf.write(root / "b.wav", music(np.random.default_rng(0), 3.0, 22050), 22050)
    write_mp3(root / "album" / "a.mp3", music(np.random.default_rng(1), 2.0, 44100, 2), 44100, 128)
    sf.write(root / "album" / "c.flac", music(np.random.default_rng(2), 1.0, 16000), 16000)
    (root / "album" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")  # unreadable
    (root / "album" / "track.m4a").write_bytes(b"\x00\x00\x00\x20ftypM4A ")  # audio libsndfile cannot decode
    (root / "notes.txt").write_text("not audio")
    (root / "album" / "cover.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    (root / "album" / "._a.mp3").write_bytes(b"\x00\x05\x16\x07")  # macOS resource fork: hidden
    return root


def test_embed_a_folder_with_a_trained_run(tiny_run, my_music, tmp_path, capsys):
    out = tmp_path / "music.npz"
    with pytest.warns(UserWarning, match="broken.wav"):
        embed.main([str(tiny_run), str(my_music), "--out", str(out), "--workers", "0", "--device", "cpu",
                    "--no-progress"])
    f = np.load(out)
    good = [my_music / "album" / "a.mp3", my_music / "album" / "c.flac", my_music / "b.wav"]  # sorted
    assert f["paths"].tolist() == [str(p) for p in good]
    assert f["embeddings"].dtype == np.float32 and f["embeddings"].shape == (3, 512)
    encoder = load_encoder(tiny_run)
    same = extract_embeddings(encoder, good, sample_rate=encoder.sample_rate, crop_samples=encoder.crop_samples,
                              progress=False)  # the probes' extraction path
    assert np.array_equal(f["embeddings"], same.embeddings)
    assert f["skipped"].tolist() == [str(my_music / "album" / "broken.wav"), str(my_music / "album" / "track.m4a")]
    assert "ffmpeg" in f["skip_reasons"][1] and str(f["checkpoint"]) == weights_hash(encoder)
    assert (str(f["run"]), int(f["sample_rate"]), int(f["max_crops"])) == (tiny_run.name, 16000, 64)
    printed = capsys.readouterr().out
    assert "3 files embedded" in printed and "2 files skipped" in printed and "broken.wav" in printed
    # The module docstring's nearest-neighbour example runs on the file as written.
    example = textwrap.dedent(embed.__doc__.split("by cosine similarity::\n")[1].split("\nConventions")[0])
    exec(example.replace("music.npz", str(out)), {})  # noqa: S102
    assert str(good[0]) in capsys.readouterr().out


def test_embed_a_dataset_spec_keeps_splits_and_labels(tiny_data, tmp_path):
    spec = f"embedded:{tiny_data}?task=key"
    arrays = embed.main(["--random-init", "small", spec, "--out", str(tmp_path / "key.npz"), "--workers", "2",
                         "--no-progress"])
    dataset = embed.DatasetSpec.parse(spec).load()
    assert arrays["paths"].tolist() == [str(p) for p in dataset.paths]
    assert arrays["split"].tolist() == dataset.split.tolist() and np.array_equal(arrays["labels"], dataset.labels)
    assert arrays["classes"].tolist() == dataset.classes and str(arrays["run"]) == "random-init-small"
    assert np.load(tmp_path / "key.npz")["embeddings"].shape == (len(dataset), 512)


def test_nothing_to_embed_is_an_error_and_writes_nothing(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x")
    out = tmp_path / "x.npz"
    with pytest.raises(ValueError, match="no audio file under"):
        embed.main(["--random-init", "small", str(tmp_path / "docs"), "--out", str(out), "--no-progress"])
    (tmp_path / "docs" / "bad.wav").write_bytes(b"")
    with pytest.raises(ValueError, match="none of the 1 audio files"), pytest.warns(UserWarning, match="bad.wav"):
        embed.main(["--random-init", "small", str(tmp_path / "docs"), "--out", str(out), "--no-progress"])
    with pytest.raises(ValueError, match="neither a folder, a file nor a dataset spec"):
        embed.main(["--random-init", "small", str(tmp_path / "absent"), "--out", str(out), "--no-progress"])
    assert not out.exists()
