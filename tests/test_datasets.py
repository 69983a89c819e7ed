"""Loaders against tiny fixture trees written in each dataset's native layout."""

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from semisup.data import fixtures
from semisup.data.audio import AudioFileError, read_chunk
from semisup.data.datasets import (
    KEY_CLASSES,
    AudioDataset,
    DatasetError,
    load_dataset,
    normalize_key,
)
from semisup.data.spec import DatasetSpec

RNG = np.random.default_rng(0)


def wav(path, seconds=0.05, sample_rate=8000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.1 * RNG.standard_normal(int(seconds * sample_rate))).astype(np.float32),
             sample_rate)
    return path


def mp3(path, seconds=0.2, sample_rate=22050):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.1 * RNG.standard_normal(int(seconds * sample_rate))).astype(np.float32),
             sample_rate, format="MP3")
    return path


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path


# --------------------------------------------------------------------------------- AudioDataset


def small_dataset():
    return AudioDataset(
        name="toy", root="/data", paths=[f"/data/{i}.wav" for i in range(5)],
        split=["train", "train", "valid", "test", "train"],
        labels=np.array([0, 1, 2, 1, 0], dtype=np.int64), task_type="multiclass",
        classes=["a", "b", "c"],
    )


def test_dataset_subset_select_and_repr():
    ds = small_dataset()
    train = ds.subset("train")
    assert len(train) == 3 and train.labels.tolist() == [0, 1, 0]
    assert [p.name for p in train.paths] == ["0.wav", "1.wav", "4.wav"]
    assert len(ds.subset("val")) == 1 and len(ds.subset(["valid", "test"])) == 2
    assert ds.select([4, 0]).labels.tolist() == [0, 0]
    assert ds.split_sizes() == {"train": 3, "valid": 1, "test": 1}
    assert "n=5 (train=3, valid=1, test=1)" in repr(ds) and ds.n_classes == 3
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        ds.subset("dev")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"task_type": "ordinal"}, "task_type"),
        ({"split": ["train"] * 4}, "one entry per path"),
        ({"split": ["train"] * 4 + ["dev"]}, "split values"),
        ({"labels": np.array([0, 1, 2, 1, 0], dtype=np.int32)}, "int64"),
        ({"labels": np.array([0, 1, 2, 1, 3], dtype=np.int64)}, r"\[0, 3\)"),
        ({"task_type": "unlabeled"}, "labels=None"),
        ({"task_type": "multilabel", "labels": np.full((5, 3), 0.5, np.float32)}, "0 or 1"),
        ({"task_type": "regression", "labels": np.full((5, 2), 0.5, np.float32)}, r"\[5, 3\]"),
    ],
)
def test_dataset_rejects_inconsistent_fields(change, message):
    fields = dict(name="toy", root="/d", paths=[f"/d/{i}.wav" for i in range(5)],
                  split=["train"] * 5, labels=np.zeros(5, np.int64), task_type="multiclass",
                  classes=["a", "b", "c"])
    fields.update(change)
    with pytest.raises(ValueError, match=message):
        AudioDataset(**fields)


def test_load_dataset_dispatch_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset kind 'mtat2'.*mtat"):
        load_dataset("mtat2", tmp_path)
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['subsett'\].*subset"):
        load_dataset("mtat", tmp_path, subsett="top50")
    with pytest.raises(FileNotFoundError, match="not a directory.*annotations_final.csv"):
        load_dataset("mtat", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="annotations_final.csv not found"):
        load_dataset("mtat", tmp_path)


def test_normalize_key():
    assert normalize_key("D# minor") == "Eb minor"
    assert normalize_key("  bb MAJOR ") == "Bb major"
    assert normalize_key("e minor") == "E minor"
    assert normalize_key("F#  major") == "Gb major"
    assert normalize_key("Cb major") == "B major"
    for ambiguous in ["-", "C minor / F# minor", "A-A# minor", "G minor/major", "E / B / A minor",
                      "C", ""]:
        assert normalize_key(ambiguous) is None
    assert len(set(KEY_CLASSES)) == 24 and KEY_CLASSES[3] == "Eb major"
    assert KEY_CLASSES[12] == "C minor"


# ------------------------------------------------------------------------------------ embedded


def write_embedded(root):
    meta = {
        "size": "tiny", "seed": 0, "sample_rate": 8000,
        "tasks": {
            "notes": {"n_clips": 3, "splits": {"train": 2, "test": 1}, "default_label": "pitch",
                      "labels": {"pitch": {"type": "multiclass", "classes": ["48", "60", "72"]},
                                 "family": {"type": "multiclass",
                                            "classes": ["organ", "piano"]}}},
            "tags": {"n_clips": 3, "splits": {"train": 3}, "default_label": "tags",
                     "labels": {"tags": {"type": "multilabel",
                                         "classes": ["piano", "slow", "strings"]}}},
            "unlabeled": {"n_clips": 2, "splits": {"train": 2}, "default_label": None,
                          "labels": {}},
        },
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "meta.json").write_text(json.dumps(meta))
    tables = {
        "notes": ("path,split,duration_s,pitch,instrument,family",
                  ["audio/n0.wav,train,0.05,60,Organ 1,organ",
                   "audio/n1.wav,test,0.05,72,Piano 1,piano",
                   "audio/n2.wav,train,0.05,48,Piano 1,piano"]),
        "tags": ("path,split,duration_s,tags",
                 ["audio/t0.wav,train,0.05,piano|slow", "audio/t1.wav,train,0.05,",
                  "audio/t2.wav,train,0.05,strings"]),
        "unlabeled": ("path,split,duration_s,meta_source",
                      ["audio/u0.wav,train,0.05,bach", "audio/u1.wav,train,0.05,mozart"]),
    }
    for task, (header, rows) in tables.items():
        (root / task).mkdir(exist_ok=True)
        (root / task / "manifest.csv").write_text("\n".join([header] + rows) + "\n")
        for row in rows:
            wav(root / task / row.split(",")[0])
    return root


def test_embedded_multiclass_multilabel_unlabeled(tmp_path):
    root = write_embedded(tmp_path / "emb")
    notes = load_dataset("embedded", root, task="notes")
    assert notes.name == "embedded-notes-pitch" and notes.task_type == "multiclass"
    assert notes.labels.dtype == np.int64 and notes.labels.tolist() == [1, 2, 0]
    assert notes.split.tolist() == ["train", "test", "train"]
    assert notes.paths[0] == root / "notes" / "audio" / "n0.wav" and notes.paths[0].is_absolute()
    family = load_dataset("embedded", root, task="notes", label="family")
    assert family.classes == ["organ", "piano"] and family.labels.tolist() == [0, 1, 1]
    tags = load_dataset("embedded", root, task="tags")
    assert tags.labels.dtype == np.float32
    assert tags.labels.tolist() == [[1, 1, 0], [0, 0, 0], [0, 0, 1]]
    unlabeled = load_dataset("embedded", root, task="unlabeled")
    assert unlabeled.labels is None and unlabeled.task_type == "unlabeled" and len(unlabeled) == 2
    assert read_chunk(notes.paths[0], 100, 8000).shape == (100,)


def test_embedded_errors_say_what_was_expected(tmp_path):
    root = write_embedded(tmp_path / "emb")
    with pytest.raises(ValueError, match=r"task='chords'.*\['notes', 'tags', 'unlabeled'\]"):
        load_dataset("embedded", root, task="chords")
    with pytest.raises(ValueError, match=r"no label field 'tempo'.*\['family', 'pitch'\]"):
        load_dataset("embedded", root, task="notes", label="tempo")
    manifest = root / "notes" / "manifest.csv"
    manifest.write_text(manifest.read_text().replace("72,Piano", "99,Piano"))
    with pytest.raises(DatasetError, match=r"manifest.csv column 'pitch'.*\['99'\]"):
        load_dataset("embedded", root, task="notes")
    manifest.write_text("path,split,pitch\naudio/n0.wav,train,60\n")
    with pytest.raises(DatasetError, match=r"lacks column\(s\) \['duration_s'\]"):
        load_dataset("embedded", root, task="notes")
    (root / "meta.json").write_text("{not json")
    with pytest.raises(DatasetError, match="meta.json is not valid JSON"):
        load_dataset("embedded", root, task="notes")
    (root / "meta.json").unlink()
    with pytest.raises(FileNotFoundError, match="meta.json not found.*semisup.data.embedded.build"):
        load_dataset("embedded", root, task="notes")


def test_missing_audio_error_or_drop(tmp_path):
    root = write_embedded(tmp_path / "emb")
    (root / "tags" / "audio" / "t1.wav").unlink()
    with pytest.raises(FileNotFoundError, match=r"1 of 3 audio files.*t1.wav.*missing='drop'"):
        load_dataset("embedded", root, task="tags")
    with pytest.warns(UserWarning, match="dropped 1 of 3"):
        tags = load_dataset("embedded", root, task="tags", missing="drop")
    assert [p.name for p in tags.paths] == ["t0.wav", "t2.wav"]
    assert tags.labels.tolist() == [[1, 1, 0], [0, 0, 1]]


# ---------------------------------------------------------------------------------------- MTAT


def write_mtat(root, audio_folder="mp3"):
    # 52 tags: "guitar" is the most frequent; "rare1"/"rare2" only tag clip 9 (outside top-50).
    tags = ["guitar", "classical", "slow"] + [f"tag{i:02d}" for i in range(47)] + ["rare1", "rare2"]
    folders = ["0", "3", "9", "b", "c", "c", "d", "e", "f", "a"]
    rows = []
    for clip, folder in enumerate(folders):
        values = np.zeros(len(tags), dtype=int)
        if clip == 9:
            values[[50, 51]] = 1
        else:
            values[0] = 1  # guitar: 9 clips
            values[1] = clip % 2  # classical: 4 clips, tie-break with slow below
            values[2] = (clip + 1) % 2 if clip < 8 else 0  # slow: 4 clips
            values[3 + (clip % 5):50:5] = 1  # the other 47 tags: 1 or 2 clips each
        rel = f"{folder}/artist_{clip}-album-track_{clip}-30-59.mp3"
        rows.append([str(clip * 2 + 2)] + [str(v) for v in values] + [rel])
        mp3(root / audio_folder / rel)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "annotations_final.csv", "w", newline="") as f:
        writer = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_ALL)  # the real file quotes
        writer.writerow(["clip_id"] + tags + ["mp3_path"])
        writer.writerows(rows)
    return root, tags


def test_mtat_top50_and_all(tmp_path):
    root, tags = write_mtat(tmp_path / "mtat")
    top = load_dataset("mtat", root)
    assert top.name == "mtat-top50" and top.task_type == "multilabel"
    assert len(top.classes) == 50 and top.classes[:3] == ["guitar", "classical", "slow"]
    assert "rare1" not in top.classes
    assert len(top) == 9  # clip 9 has no top-50 tag
    assert top.split.tolist() == ["train"] * 4 + ["valid"] * 2 + ["test"] * 3
    assert top.labels.shape == (9, 50) and top.labels.dtype == np.float32
    assert top.labels[:, 0].sum() == 9 and top.labels[:, 1].tolist() == [0, 1] * 4 + [0]
    assert top.paths[0] == root / "mp3" / "0" / "artist_0-album-track_0-30-59.mp3"
    everything = load_dataset("mtat", root, subset="all")
    assert everything.classes == tags and len(everything) == 10
    assert everything.split[-1] == "train"  # folder a
    assert everything.labels[-1].tolist() == [0] * 50 + [1, 1]
    assert read_chunk(top.paths[0], 2000, 22050).shape == (2000,)


def test_mtat_converted_copies_and_bad_metadata(tmp_path):
    root, _ = write_mtat(tmp_path / "mtat")
    wavs = tmp_path / "mtat_wav"
    for mp3_path in (root / "mp3").rglob("*.mp3"):
        wav(wavs / mp3_path.relative_to(root / "mp3").with_suffix(".wav"))
    ds = load_dataset("mtat", root, audio_dir=wavs, audio_ext="wav")
    assert ds.paths[0].suffix == ".wav" and ds.paths[0].is_file()
    with pytest.raises(FileNotFoundError, match="pass audio_dir"):
        load_dataset("mtat", root, audio_dir=tmp_path)
    with pytest.raises(ValueError, match="subset must be 'top50' or 'all'"):
        load_dataset("mtat", root, subset="top10")
    text = (root / "annotations_final.csv").read_text()
    (root / "annotations_final.csv").write_text(text.replace("\t", ","))
    with pytest.raises(DatasetError, match="lacks column.*tab-separated"):
        load_dataset("mtat", root)


# -------------------------------------------------------------------------------------- NSynth


def write_nsynth(root, splits=("train", "valid", "test")):
    notes = {
        "train": [("bass_synthetic_033-022-050", 22, 0, 2), ("keyboard_acoustic_004-060-025", 60, 4, 0),
                  ("synth_lead_synthetic_000-108-127", 108, 9, 2)],
        "valid": [("organ_electronic_028-072-100", 72, 6, 1)],
        "test": [("vocal_acoustic_000-060-075", 60, 10, 0), ("guitar_electronic_022-021-025", 21, 3, 1)],
    }
    families = ["bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed",
                "string", "synth_lead", "vocal"]
    sources = ["acoustic", "electronic", "synthetic"]
    for split in splits:
        examples = {}
        for note_str, pitch, family, source in notes[split]:
            examples[note_str] = {
                "note": 1, "note_str": note_str, "instrument": 7, "instrument_str": note_str[:-8],
                "pitch": pitch, "velocity": 25, "sample_rate": 16000, "qualities": [0] * 10,
                "qualities_str": [], "instrument_family": family,
                "instrument_family_str": families[family], "instrument_source": source,
                "instrument_source_str": sources[source],
            }
            wav(root / f"nsynth-{split}" / "audio" / f"{note_str}.wav", sample_rate=16000)
        (root / f"nsynth-{split}" / "examples.json").write_text(json.dumps(examples))
    return root


def test_nsynth_labels_and_splits(tmp_path):
    root = write_nsynth(tmp_path / "nsynth")
    pitch = load_dataset("nsynth", root)
    assert pitch.classes == ["21", "22", "60", "72", "108"]
    assert pitch.split.tolist() == ["train"] * 3 + ["valid"] + ["test"] * 2
    # Within a split, entries are sorted by note_str.
    assert [p.stem for p in pitch.paths[:3]] == sorted(p.stem for p in pitch.paths[:3])
    by_name = dict(zip((p.stem for p in pitch.paths), pitch.labels.tolist(), strict=True))
    assert by_name["keyboard_acoustic_004-060-025"] == 2 and by_name["synth_lead_synthetic_000-108-127"] == 4
    family = load_dataset("nsynth", root, label="family")
    assert len(family.classes) == 11 and family.classes[9] == "synth_lead"
    names = dict(zip((p.stem for p in family.paths), family.labels.tolist(), strict=True))
    assert names["vocal_acoustic_000-060-075"] == 10 and names["organ_electronic_028-072-100"] == 6
    alias = load_dataset("nsynth", root, label="instrument")
    assert alias.name == "nsynth-family" and np.array_equal(alias.labels, family.labels)
    source = load_dataset("nsynth", root, label="source")
    assert source.classes == ["acoustic", "electronic", "synthetic"]
    assert read_chunk(pitch.paths[0], 800, 22050).shape == (800,)  # 16 kHz -> 22.05 kHz


def test_nsynth_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nsynth-<split>/examples.json"):
        load_dataset("nsynth", tmp_path)
    root = write_nsynth(tmp_path / "ns", splits=("test",))
    assert load_dataset("nsynth", root).split_sizes() == {"test": 2}  # partial download works
    with pytest.raises(ValueError, match="label must be one of"):
        load_dataset("nsynth", root, label="velocity")
    path = root / "nsynth-test" / "examples.json"
    examples = json.loads(path.read_text())
    del examples["vocal_acoustic_000-060-075"]["pitch"]
    path.write_text(json.dumps(examples))
    with pytest.raises(DatasetError, match="'vocal_acoustic_000-060-075' lacks the field 'pitch'"):
        load_dataset("nsynth", root)


# ---------------------------------------------------------------------------------- GiantSteps


def write_giantsteps(root):
    mtg = root / "giantsteps-mtg-key-dataset"
    rows = [("5061", "D# minor", "2"), ("16484", "A minor", "1"), ("10981", "-", "0"),
            ("61578", "C minor / F# minor", "2"), ("297150", "A-A# minor", "0"),
            ("299300", "G minor/major", "1")]
    rows += [(str(1000 + i), key, "2") for i, key in enumerate(["C major", "C major", "C major",
                                                                 "A minor", "A minor", "A minor",
                                                                 "F# major", "A# major", "E minor",
                                                                 "E minor"])]
    (mtg / "annotations").mkdir(parents=True)
    (mtg / "annotations" / "annotations.txt").write_text(
        "ID\tMANUAL KEY\tC\n" + "".join(f"{i}\t{k}\t{c}\n" for i, k, c in rows))
    for i, _, _ in rows:
        mp3(mtg / "audio" / f"{i}.LOFI.mp3", seconds=0.1)
    orig = root / "giantsteps-key-dataset"
    keys = {"10089": "Ab major\n", "10152": "#@format: key\ttimestamp(float)\tkey(string)\n"
            "key\t0\tc# minor\t2\tcomment\n", "10200": "-\n"}
    for track, text in keys.items():
        touch(orig / "annotations" / "key" / f"{track}.LOFI.key").write_text(text)
        mp3(orig / "audio" / f"{track}.LOFI.mp3", seconds=0.1)
    return root


def test_giantsteps_train_test_and_key_mapping(tmp_path):
    root = write_giantsteps(tmp_path / "gs")
    ds = load_dataset("giantsteps", root, valid_fraction=0.3)
    assert ds.classes == KEY_CLASSES and ds.task_type == "multiclass"
    names = [ds.classes[i] for i in ds.labels]
    assert ds.split.tolist().count("test") == 2  # "-" dropped
    test = [n for n, s in zip(names, ds.split, strict=True) if s == "test"]
    assert test == ["Ab major", "Db minor"]
    train_names = {p.name: n for p, n, s in zip(ds.paths, names, ds.split, strict=True) if s != "test"}
    assert train_names["5061.LOFI.mp3"] == "Eb minor"
    assert train_names["1006.LOFI.mp3"] == "Gb major" and train_names["1007.LOFI.mp3"] == "Bb major"
    assert "16484.LOFI.mp3" not in train_names and "61578.LOFI.mp3" not in train_names
    assert len(train_names) == 11
    assert ds.info["dropped_low_confidence"] == 4 and ds.info["dropped_ambiguous"] == 1
    # valid is stratified per key: 3 C-major clips -> round(0.9) = 1 valid.
    valid = Counter(n for n, s in zip(names, ds.split, strict=True) if s == "valid")
    assert valid == {"C major": 1, "A minor": 1, "E minor": 1}
    again = load_dataset("giantsteps", root, valid_fraction=0.3)
    assert np.array_equal(again.split, ds.split)  # seeded
    other = [load_dataset("giantsteps", root, valid_fraction=0.3, seed=s).split for s in range(1, 6)]
    assert any(not np.array_equal(o, ds.split) for o in other)


def test_giantsteps_missing_test_folder(tmp_path):
    root = write_giantsteps(tmp_path / "gs")
    with pytest.raises(FileNotFoundError, match="annotations/key not found"):
        load_dataset("giantsteps", root, key_dir=tmp_path / "elsewhere")


# Usable tracks per key in the public giantsteps-mtg-key-dataset annotations.txt (C == 2,
# single key), native sharp spelling: 1159 in all (checked against the real file below).
GIANTSTEPS_KEY_COUNTS = {
    "C major": 23, "C# major": 41, "D major": 44, "D# major": 27, "E major": 28, "F major": 29,
    "F# major": 34, "G major": 32, "G# major": 40, "A major": 24, "A# major": 33, "B major": 22,
    "C minor": 112, "C# minor": 73, "D minor": 72, "D# minor": 43, "E minor": 79, "F minor": 103,
    "F# minor": 46, "G minor": 65, "G# minor": 34, "A minor": 57, "A# minor": 41, "B minor": 57,
}


def test_giantsteps_split_counts_on_the_real_key_frequencies(tmp_path):
    rows = [(key, "2") for key, n in GIANTSTEPS_KEY_COUNTS.items() for _ in range(n)]
    rows += [("C minor / F# minor", "2")] * 23 + [("F minor", "1")] * 150 + [("-", "0")] * 154
    annotations = "ID\tMANUAL KEY\tC\n" + "".join(f"{i}\t{k}\t{c}\n" for i, (k, c) in enumerate(rows))
    root = fixtures.write_giantsteps(tmp_path / "gs", annotations, {"1": "A minor"}, audio_seconds=None)
    assert len(rows) == 1486
    # Default 0.17: Table 5's 961 / 198 (docstring, README); 10 % gives 1046 / 113.
    assert load_dataset("giantsteps", root).split_sizes() == {"train": 961, "valid": 198, "test": 1}
    assert load_dataset("giantsteps", root, valid_fraction=0.1).split_sizes() == {
        "train": 1046, "valid": 113, "test": 1}
    # Per-key rounding: 198 / 1159 ~ 0.171 overshoots.
    assert load_dataset("giantsteps", root, valid_fraction=0.171).split_sizes()["valid"] == 200


REAL_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def real_file(name):
    path = REAL_DATA / name
    if not path.is_file():
        pytest.skip(f"real metadata {path} absent (a user's clone): see shared/data/README.md")
    return path


def test_giantsteps_table5_counts_on_the_real_annotations(tmp_path):
    annotations = real_file("giantsteps/mtg_key_annotations.txt").read_text()
    with real_file("giantsteps/test_keys.tsv").open() as f:
        test_keys = {row["id"]: row["key"] for row in csv.DictReader(f, delimiter="\t")}
    root = fixtures.write_giantsteps(tmp_path / "gs", annotations, test_keys, audio_seconds=None)
    ds = load_dataset("giantsteps", root)
    assert ds.split_sizes() == {"train": 961, "valid": 198, "test": 604}  # Table 5
    assert ds.info["dropped_low_confidence"] == 1486 - 1182 and ds.info["dropped_ambiguous"] == 23
    train = ds.subset(["train", "valid"])
    counts = Counter(train.classes[i] for i in train.labels)
    assert counts == {normalize_key(k): n for k, n in GIANTSTEPS_KEY_COUNTS.items()}  # C# minor 73


# --------------------------------------------------------------------------------------- GTZAN


def test_gtzan_fault_filtered_split(tmp_path):
    from torchaudio.datasets import gtzan

    root = tmp_path / "gtzan"
    for file_id in gtzan.filtered_train + gtzan.filtered_valid + gtzan.filtered_test:
        touch(root / "genres" / file_id.split(".")[0] / f"{file_id}.wav")
    wav(root / "genres" / "blues" / "blues.00029.wav")  # one real file to read
    ds = load_dataset("gtzan", root)
    assert ds.split_sizes() == {"train": 443, "valid": 197, "test": 290}  # Table 5
    assert len(ds.classes) == 10 and ds.classes[0] == "blues"
    assert ds.paths[0] == root / "genres" / "blues" / "blues.00029.wav"
    genres = [p.parent.name for p in ds.paths]
    assert [ds.classes[i] for i in ds.labels] == genres
    assert read_chunk(ds.paths[0], 100, 8000).shape == (100,)
    assert len({p.stem for p in ds.paths}) == 930  # no file in two splits


def test_gtzan_user_split_lists_and_missing_files(tmp_path):
    root = tmp_path / "gtzan"
    for genre in ["blues", "rock"]:
        for i in range(2):
            wav(root / "genres_original" / genre / f"{genre}.0000{i}.wav")
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "train_filtered.txt").write_text("blues/blues.00000.wav\nrock/rock.00000.wav\n")
    (lists / "valid_filtered.txt").write_text("blues.00001\n")
    (lists / "test_filtered.txt").write_text("rock/rock.00001.au\n")
    ds = load_dataset("gtzan", root, split_dir=lists)
    assert ds.split.tolist() == ["train", "train", "valid", "test"]
    assert [ds.classes[i] for i in ds.labels] == ["blues", "rock", "blues", "rock"]
    with pytest.raises(FileNotFoundError, match=r"926 of 930 audio files.*missing='drop'"):
        load_dataset("gtzan", root)
    with pytest.raises(FileNotFoundError, match="valid_filtered.txt not found"):
        (lists / "valid_filtered.txt").unlink()
        load_dataset("gtzan", root, split_dir=lists)
    with pytest.raises(FileNotFoundError, match="no genre folders"):
        load_dataset("gtzan", tmp_path / "lists")


# ------------------------------------------------------------------------------------- Jamendo


def write_jamendo(root, subset="top50tags", low=False, audio_root=None):
    """The mtg-jamendo-dataset clone's split files (CRLF) and download.py's NN/<id>.mp3 audio."""
    rows = {
        "train": [("track_0000214", "artist_000014", "album_000031", "14/214.mp3", "124.6",
                   ["genre---punkrock"]),
                  ("track_0000215", "artist_000014", "album_000031", "15/215.mp3", "167.5",
                   ["genre---metal", "instrument---guitar", "mood/theme---energetic"])],
        "validation": [("track_0000219", "artist_000014", "album_000031", "19/219.mp3", "90.0",
                        ["instrument---guitar"])],
        "test": [("track_0001100", "artist_000200", "album_000400", "00/1100.mp3", "200.0",
                  ["genre---metal", "mood/theme---energetic"])],
    }
    folder = root / "data" / "splits" / "split-0"
    folder.mkdir(parents=True)
    for split, entries in rows.items():
        lines = ["TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS"]
        lines += ["\t".join([*e[:5], *e[5]]) for e in entries]
        (folder / f"autotagging_{subset}-{split}.tsv").write_bytes(("\r\n".join(lines) + "\r\n").encode())
        for e in entries:
            name = e[3].replace(".mp3", ".low.mp3") if low else e[3]
            mp3((audio_root or root / "mp3") / name, seconds=0.1)
    return root


def test_jamendo_multilabel(tmp_path):
    root = write_jamendo(tmp_path / "jamendo")
    ds = load_dataset("jamendo", root)
    assert ds.name == "jamendo-top50tags" and ds.split.tolist() == ["train", "train", "valid", "test"]
    assert ds.classes == ["genre---metal", "genre---punkrock", "instrument---guitar",
                          "mood/theme---energetic"]
    assert ds.labels.tolist() == [[0, 1, 0, 0], [1, 0, 1, 1], [0, 0, 1, 0], [1, 0, 0, 1]]
    assert ds.paths[0] == root / "mp3" / "14" / "214.mp3"
    with pytest.raises(FileNotFoundError, match="autotagging_genre-train.tsv not found"):
        load_dataset("jamendo", root, subset="genre")
    with pytest.raises(ValueError, match="subset must be one of"):
        load_dataset("jamendo", root, subset="decade")


def test_jamendo_low_quality_copies_and_bad_header(tmp_path):
    root = write_jamendo(tmp_path / "jamendo", subset="moodtheme", low=True)
    ds = load_dataset("jamendo", root, subset="mood")
    assert ds.paths[0].name == "214.low.mp3" and ds.paths[0].is_file()
    tsv = root / "data" / "splits" / "split-0" / "autotagging_moodtheme-test.tsv"
    tsv.write_text("TRACK_ID,ARTIST_ID\n")
    with pytest.raises(DatasetError, match="must start with the header"):
        load_dataset("jamendo", root, subset="moodtheme")


def test_jamendo_audio_in_download_py_output_dir_outside_the_clone(tmp_path):
    audio = tmp_path / "jamendo_audio"  # download.py <outputdir>: NN/<id>.mp3
    clone = write_jamendo(tmp_path / "mtg-jamendo-dataset", audio_root=audio)
    assert b"\tgenre---metal\tinstrument---guitar\tmood/theme---energetic\r\n" in (
        clone / "data" / "splits" / "split-0" / "autotagging_top50tags-train.tsv").read_bytes()
    ds = DatasetSpec.parse(f"jamendo:{clone}?subset=top50&audio_dir={audio}").load()
    assert ds.paths == [audio / "14" / "214.mp3", audio / "15" / "215.mp3", audio / "19" / "219.mp3",
                        audio / "00" / "1100.mp3"]
    assert ds.labels.tolist() == [[0, 1, 0, 0], [1, 0, 1, 1], [0, 0, 1, 0], [1, 0, 0, 1]]
    assert ds.info["subset"] == "top50tags" and ds.info["audio_dir"] == str(audio)
    with pytest.raises(FileNotFoundError, match=r"e.g. \['14/214.mp3'\] or \['14/214.low.mp3'\].*"
                                                r"pass audio_dir=<download.py output dir>"):
        load_dataset("jamendo", clone)
    with pytest.raises(FileNotFoundError, match="pass audio_dir=<download.py output dir>"):
        load_dataset("jamendo", clone, audio_dir=tmp_path)


# ----------------------------------------------------------------------------------------- FMA


def test_fma_unlabeled_with_and_without_official_split(tmp_path):
    root = tmp_path / "fma"
    for rel in ["000/000002.mp3", "000/000005.mp3", "001/001234.mp3"]:
        mp3(root / "fma_medium" / rel, seconds=0.1)
    touch(root / "fma_medium" / "README.txt")
    ds = load_dataset("fma", root)
    assert ds.task_type == "unlabeled" and ds.labels is None and ds.classes == []
    assert [p.name for p in ds.paths] == ["000002.mp3", "000005.mp3", "001234.mp3"]
    assert ds.split.tolist() == ["train"] * 3
    (root / "fma_metadata").mkdir()
    (root / "fma_metadata" / "tracks.csv").write_text(
        ",album,set,set,track\n"
        ",title,split,subset,title\n"
        "track_id,,,,\n"
        "2,AWOL,training,small,Food\n"
        "5,AWOL,validation,medium,This World\n"
        "1234,Other,test,medium,Song\n"
        "9999,Other,training,large,Song\n"
    )
    ds = load_dataset("fma", root)
    assert ds.split.tolist() == ["train", "valid", "test"]
    mp3(root / "fma_medium" / "002" / "002000.mp3", seconds=0.1)
    with pytest.raises(DatasetError, match="1 audio files have no row"):
        load_dataset("fma", root)
    with pytest.raises(FileNotFoundError, match="no audio files"):
        load_dataset("fma", tmp_path / "fma" / "fma_metadata")


# ------------------------------------------------------------------------------------ VocalSet


def write_vocalset(root):
    techniques = {"arpeggios": ["belt", "breathy"], "long_tones": ["vibrato", "belt"]}
    for singer in ["female1", "female2", "male1", "male3"]:
        short = singer[0] + singer.lstrip("femal")  # female2 -> f2, male3 -> m3
        for context, names in techniques.items():
            for technique in names:
                for vowel in "aeiou":
                    wav(root / "data_by_singer" / singer / context / technique /
                        f"{short}_{context}_{technique}_{vowel}.wav", seconds=0.01)
    touch(root / "data_by_singer" / "female1" / "arpeggios" / "belt" / "._f1_junk.wav")
    (root / "train_singers_technique.txt").write_text("female1\nmale1\nfemale2\n")
    (root / "test_singers_technique.txt").write_text("male3\n")
    return root


def test_vocalset_singer_and_technique(tmp_path):
    root = write_vocalset(tmp_path / "vocalset")
    singer = load_dataset("vocalset", root)
    assert singer.classes == ["f1", "f2", "m1", "m3"] and len(singer) == 4 * 20
    # Table 5's shares, rounded up: test ceil(80 * 577 / 3610) = 13, valid ceil(80 * 566 / 3610) = 13.
    assert singer.split_sizes() == {"train": 54, "valid": 13, "test": 13}
    for c in range(4):  # stratified: every singer in every split
        assert set(singer.split[singer.labels == c].tolist()) == {"train", "valid", "test"}
    technique = load_dataset("vocalset", root, label="technique")
    assert technique.classes == ["belt", "breathy", "vibrato"]
    is_test = technique.split == "test"
    assert {p.parts[-4] for p, t in zip(technique.paths, is_test, strict=True) if t} == {"male3"}
    assert is_test.sum() == 20 and (technique.split == "valid").sum() > 0
    belt = [p for p, i in zip(technique.paths, technique.labels, strict=True) if i == 0]
    assert all(p.parent.name == "belt" for p in belt)


def test_vocalset_errors(tmp_path):
    root = write_vocalset(tmp_path / "vocalset")
    (root / "test_singers_technique.txt").unlink()
    assert len(load_dataset("vocalset", root)) == 80  # singer task does not need the lists
    with pytest.raises(FileNotFoundError, match="test_singers_technique.txt not found"):
        load_dataset("vocalset", root, label="technique")
    with pytest.raises(ValueError, match="label must be 'singer' or 'technique'"):
        load_dataset("vocalset", root, label="vowel")
    with pytest.raises(ValueError, match="valid_fraction"):
        load_dataset("vocalset", root, valid_fraction=1.5)


def test_vocalset_default_splits_give_table5_counts(tmp_path):
    # Table 5's totals: 3610 files (singer task); the technique task's train singers hold
    # 2685 files and its test singers 894 (a singer in neither list is dropped there).
    techniques = [f"{c}/{t}" for c in ("arpeggios", "scales", "long_tones")
                  for t in ("belt", "breathy", "vibrato", "straight", "vocal_fry", "lip_trill")]
    def files(n):  # n files spread over the 18 context/technique folders
        return {g: n // 18 + (i < n % 18) for i, g in enumerate(techniques)}
    train = {f"female{i}": files(2685 // 14 + (i <= 2685 % 14)) for i in range(1, 15)}
    test = {f"male{i}": files(894 // 5 + (i <= 894 % 5)) for i in range(1, 6)}
    root = fixtures.write_vocalset(tmp_path / "vocalset", {**train, **test, "male11": files(31)},
                                   test_singers=list(test), audio_seconds=None)
    (root / "train_singers_technique.txt").write_text("".join(f"{s}\n" for s in train))
    singer = load_dataset("vocalset", root)
    assert len(singer.classes) == 20
    assert singer.split_sizes() == {"train": 2467, "valid": 566, "test": 577}  # Table 5
    technique = load_dataset("vocalset", root, label="technique")
    assert technique.split_sizes() == {"train": 2282, "valid": 403, "test": 894}  # Table 5
    assert set(technique.classes) == {t.split("/")[1] for t in techniques}


# ------------------------------------------------------------------------------------ MedleyDB


def write_medleydb(root):
    songs = {
        "Song_A": {"S01": "electric bass", "S02": "drum set", "S03": ["violin", "viola"],
                   "S04": "fx/processed sound", "S05": "violin"},
        "Song_B": {"S01": "electric bass", "S02": "drum set", "S03": "violin",
                   "S04": ["drum set"]},
        "Song_C": {"S01": "electric bass", "S02": "flute", "S03": "drum set",
                   "S04": "electric bass"},
    }
    (root / "Metadata").mkdir(parents=True)
    for song, stems in songs.items():
        meta = {"artist": "x", "title": song, "mix_filename": f"{song}_MIX.wav",
                "stem_dir": f"{song}_STEMS", "raw_dir": f"{song}_RAW", "stems": {}}
        for name, instrument in stems.items():
            filename = f"{song}_STEM_{name[1:]}.wav"
            meta["stems"][name] = {"component": "", "filename": filename,
                                   "instrument": instrument, "raw": {}}
            wav(root / "Audio" / song / f"{song}_STEMS" / filename, seconds=0.01)
        (root / "Metadata" / f"{song}_METADATA.yaml").write_text(yaml.safe_dump(meta))
    return root


def test_medleydb_instruments(tmp_path):
    root = write_medleydb(tmp_path / "medleydb")
    ds = load_dataset("medleydb", root, valid_fraction=0.0, test_fraction=0.0)
    # The authors' exclusion list spells "fx/processed_sound": "fx/processed sound" is a class.
    assert ds.classes == ["drum set", "electric bass", "flute", "fx/processed sound", "violin"]
    assert Counter(ds.classes[i] for i in ds.labels) == {"electric bass": 4, "drum set": 4,
                                                         "violin": 2, "flute": 1,
                                                         "fx/processed sound": 1}
    assert ds.info["dropped_multi_instrument_stems"] == 1
    assert ds.paths[0] == root / "Audio" / "Song_A" / "Song_A_STEMS" / "Song_A_STEM_01.wav"
    top2 = load_dataset("medleydb", root, n_classes=2, valid_fraction=0.25, test_fraction=0.25)
    assert top2.classes == ["drum set", "electric bass"] and len(top2) == 8
    # test: ceil(0.25 * 8) = 2, then valid: ceil(0.25 * 6) = 2, stratified by instrument.
    split = Counter(zip(top2.labels.tolist(), top2.split.tolist(), strict=True))
    assert split == {(c, s): n for c in range(2) for s, n in [("train", 2), ("valid", 1),
                                                               ("test", 1)]}
    with pytest.raises(FileNotFoundError, match="no \\*_METADATA.yaml"):
        load_dataset("medleydb", root / "Audio")
    (root / "Metadata" / "Song_C_METADATA.yaml").write_text("stems: [1, 2]\n")
    with pytest.raises(DatasetError, match="Song_C_METADATA.yaml needs 'stem_dir'"):
        load_dataset("medleydb", root)


def write_medleydb_public(meta_root, audio_root):
    """The marl/medleydb clone's metadata and the Zenodo V1 / V2 audio folders.

    Two tracks are in the metadata only (MedleyDB "extra", Bach10): no public audio. Their
    "piano" stems outnumber every class that has audio.
    """
    tracks = {
        "MedleyDB_V1/V1": {"Song_A": {"S01": "electric bass", "S02": "drum set", "S03": "violin"},
                           "Song_B": {"S01": "electric bass", "S02": "violin"}},
        "MedleyDB_V2/V2": {"Song_C": {"S01": "drum set", "S02": "flute", "S03": "electric bass"}},
        None: {"Extra_D": {"S01": "piano", "S02": "piano", "S03": "piano"},
               "Bach10_E": {"S01": "piano", "S02": "bassoon", "S03": "piano"}},
    }
    meta_dir = meta_root / "medleydb" / "data" / "Metadata"
    meta_dir.mkdir(parents=True)
    for folder, songs in tracks.items():
        for song, stems in songs.items():
            meta = {"artist": "x", "title": song, "mix_filename": f"{song}_MIX.wav",
                    "stem_dir": f"{song}_STEMS", "raw_dir": f"{song}_RAW", "stems": {}}
            for name, instrument in stems.items():
                filename = f"{song}_STEM_{name[1:]}.wav"
                meta["stems"][name] = {"component": "", "filename": filename,
                                       "instrument": instrument, "raw": {}}
                if folder is not None:
                    wav(audio_root / folder / song / f"{song}_STEMS" / filename, seconds=0.01)
            (meta_dir / f"{song}_METADATA.yaml").write_text(yaml.safe_dump(meta))
    return meta_root


def test_medleydb_reads_v1_and_v2_and_drops_tracks_without_public_audio(tmp_path):
    root = write_medleydb_public(tmp_path / "medleydb", tmp_path / "medleydb")
    with pytest.warns(UserWarning, match=r"6 of 14 stems have no public audio \(tracks not in "
                                         r"V1/V2\): 2 of 5 tracks.*after choosing the classes"):
        ds = load_dataset("medleydb", root, valid_fraction=0.0, test_fraction=0.0)
    assert ds.classes == ["drum set", "electric bass", "flute", "violin"]  # piano, bassoon: no audio
    assert {p.relative_to(root).parts[0] for p in ds.paths} == {"MedleyDB_V1", "MedleyDB_V2"}
    assert len(ds) == 8 and all(p.is_file() for p in ds.paths)
    assert (ds.info["stems_listed"], ds.info["stems_without_audio"], ds.info["tracks_without_audio"]) == (14, 6, 2)
    with pytest.warns(UserWarning, match="no public audio"):
        top2 = load_dataset("medleydb", root, n_classes=2, valid_fraction=0.0, test_fraction=0.0)
    # The authors choose the classes over every metadata file: piano (5 stems, none with
    # audio) and electric bass (3) are the top 2, so only electric bass stems remain.
    assert top2.classes == ["electric bass"] and len(top2) == 3
    # A stem missing from a track that is present is a broken download.
    (root / "MedleyDB_V2" / "V2" / "Song_C" / "Song_C_STEMS" / "Song_C_STEM_02.wav").unlink()
    with pytest.warns(UserWarning, match="no public audio"), pytest.raises(
            FileNotFoundError, match=r"1 of 8 audio files .* are missing.*Song_C_STEM_02.wav"):
        load_dataset("medleydb", root, valid_fraction=0.0, test_fraction=0.0)
    with pytest.warns(UserWarning, match="no public audio"), pytest.warns(
            UserWarning, match="dropped 1 of 8 clips whose audio is missing"):
        assert len(load_dataset("medleydb", root, missing="drop", valid_fraction=0.0,
                                test_fraction=0.0)) == 7


def test_medleydb_audio_dir_lists_folders_in_a_spec_or_in_python(tmp_path):
    root = write_medleydb_public(tmp_path / "medleydb", tmp_path / "zenodo")
    v1, v2 = tmp_path / "zenodo" / "MedleyDB_V1" / "V1", tmp_path / "zenodo" / "MedleyDB_V2" / "V2"
    spec = DatasetSpec.parse(f"medleydb:{root}?audio_dir={v1},{v2}&valid_fraction=0.0&test_fraction=0.0")
    assert spec.kwargs()["audio_dir"] == f"{v1},{v2}"
    with pytest.warns(UserWarning, match="6 of 14 stems have no public audio"):
        ds = spec.load()
    assert len(ds) == 8 and ds.info["audio_dirs"] == [str(v1), str(v2)]
    with pytest.warns(UserWarning, match="no public audio"):
        listed = load_dataset("medleydb", root, audio_dir=[v1, v2], valid_fraction=0.0, test_fraction=0.0)
    assert listed.paths == ds.paths
    with pytest.warns(UserWarning, match="9 of 14 stems"):  # V2 missing: Song_C's stems count too
        assert len(load_dataset("medleydb", root, audio_dir=v1, valid_fraction=0.0,
                                test_fraction=0.0)) == 5
    with pytest.raises(FileNotFoundError, match=r"no audio folder under .*pass audio_dir=<V1 folder>,<V2 folder>"):
        load_dataset("medleydb", root)
    with pytest.raises(FileNotFoundError, match=r"none of the 5 tracks .* has a folder in"):
        load_dataset("medleydb", root, audio_dir=tmp_path / "zenodo")
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_dataset("medleydb", root, audio_dir=f"{v1},{tmp_path / 'V3'}")


def medleydb_stem(track, release, stem, instrument):
    return {"track": track, "release": release, "stem_dir": f"{track}_STEMS", "stem": stem,
            "filename": f"{track}_STEM_{stem[1:]}.wav", "instrument": instrument}


def test_medleydb_two_stage_split_rounds_up_as_sklearn(tmp_path):
    # 40 V1/V2 stems in 2 classes of 20; an "extra" track (no audio) with a multi-instrument
    # stem and the authors' excluded labels.
    stems = [medleydb_stem(f"Song_{i // 4}", "V1" if i < 24 else "V2", f"S{i % 4 + 1:02d}",
                           "piano" if i % 2 else "drum set") for i in range(40)]
    stems += [medleydb_stem("Extra_X", "extra", "S01", "Unlabeled"),
              medleydb_stem("Extra_X", "extra", "S02", "fx/processed_sound"),
              medleydb_stem("Extra_X", "extra", "S03", "piano|drum set")]
    root = fixtures.write_medleydb(tmp_path / "medleydb", stems)
    assert (root / "MedleyDB_V2" / "V2" / "Song_9" / "Song_9_STEMS" / "Song_9_STEM_04.wav").is_file()
    assert not (root / "MedleyDB_V1" / "V1" / "Extra_X").exists()  # no public audio
    with pytest.warns(UserWarning, match="3 of 43 stems have no public audio"):
        ds = load_dataset("medleydb", root)
    assert ds.classes == ["drum set", "piano"] and len(ds) == 40
    # test: ceil(0.15 * 40) = 6 (3 per class), then valid: ceil(0.15 * 34) = 6.
    assert ds.split_sizes() == {"train": 28, "valid": 6, "test": 6}
    assert Counter(ds.labels[ds.split == "test"].tolist()) == {0: 3, 1: 3}
    with pytest.warns(UserWarning, match="no public audio"):
        assert np.array_equal(load_dataset("medleydb", root).split, ds.split)  # seeded
    with pytest.warns(UserWarning, match="no public audio"):
        assert not np.array_equal(load_dataset("medleydb", root, seed=1).split, ds.split)
    with pytest.warns(UserWarning, match="no public audio"), pytest.raises(ValueError, match="test_fraction"):
        load_dataset("medleydb", root, test_fraction=1.0)


def test_medleydb_table5_counts_and_classes_on_the_real_metadata(tmp_path):
    with real_file("medleydb_stems.csv").open() as f:
        stems = list(csv.DictReader(f))
    assert len(stems) == 2014 and sum(s["release"] in ("V1", "V2") for s in stems) == 1284
    root = fixtures.write_medleydb(tmp_path / "medleydb", stems, audio_seconds=None)
    with pytest.warns(UserWarning, match="730 of 2014 stems have no public audio"):
        ds = load_dataset("medleydb", root)
    assert len(ds) == 913 and ds.split_sizes() == {"train": 659, "valid": 117, "test": 137}  # Table 5
    assert len(ds.classes) == 20 and {"bassoon", "fx/processed sound"} <= set(ds.classes)
    assert not {"tabla", "viola"} & set(ds.classes)  # top 20 of the V1/V2 stems alone would pick these
    # Every class in every split (stratified).
    assert all(set(ds.labels[ds.split == s].tolist()) == set(range(20)) for s in ("train", "valid", "test"))


# ------------------------------------------------------------------------------------ EmoMusic


def write_emomusic(root):
    root.mkdir(parents=True)
    info = [("song_id,file_name,Artist,Song title,start of the segment (min.sec),"
             "end of the segment (min.sec),Genre,Mediaeval 2013 set")]
    static = ["song_id, mean_arousal, std_arousal, mean_valence, std_valence"]
    artists = ["Kevin MacLeod", "Kevin MacLeod", "Anamanaguchi", "Brad Sucks", "Jahzzar",
               "Josh Woodward", "The Polish Ambassador", "Broke For Free", "Dexter Britain",
               "Kai Engel"]
    for i, artist in enumerate(artists):
        song = i + 2
        split = "evaluation" if i >= 8 else "development"
        info.append(f"{song},{song}.mp3,{artist},Title {i},0.0,0.45,Rock,{split}")
        static.append(f"{song}, {3 + i * 0.5}, 0.9, {7 - i * 0.25}, 1.1")
        mp3(root / "clips_45seconds" / f"{song}.mp3", seconds=0.1)
    (root / "songs_info.csv").write_text("\n".join(info) + "\n")
    (root / "static_annotations.csv").write_text("\n".join(static) + "\n")
    return root


def test_emomusic_regression(tmp_path):
    root = write_emomusic(tmp_path / "emo")
    ds = load_dataset("emomusic", root)
    assert ds.task_type == "regression" and ds.classes == ["arousal", "valence"]
    assert ds.labels.shape == (10, 2) and ds.labels.dtype == np.float32
    assert ds.split[-2:].tolist() == ["test", "test"]
    assert set(ds.split[:8]) <= {"train", "valid"}
    assert ds.split[0] == ds.split[1]  # same artist, same split
    development = ds.split != "test"
    assert np.allclose(ds.labels[development].mean(0), 0, atol=1e-6)
    assert np.allclose(ds.labels[development].std(0), 1, atol=1e-5)
    raw = load_dataset("emomusic", root, standardize=False)
    assert raw.labels[0].tolist() == [3.0, 7.0]
    assert ds.paths[0] == root / "clips_45seconds" / "2.mp3"
    (root / "static_annotations.csv").write_text("song_id,arousal\n2,3\n")
    with pytest.raises(DatasetError, match=r"lacks column\(s\) \['mean_arousal', 'mean_valence'\]"):
        load_dataset("emomusic", root)


# ------------------------------------------------------------------- Table 5 probe settings


def write_prepared(root, source, spec):
    """A prepared folder as ``python -m semisup.data.prepare`` writes it (see prepared.py)."""
    from semisup.data.datasets.prepared import CLIP_COLUMNS, FORMAT, VERSION, encode_label

    rows = []
    for i, (path, split) in enumerate(zip(source.paths, source.split, strict=True)):
        wav(root / "audio" / f"{i}.wav")
        rows.append([f"audio/{i}.wav", split, "0.05", encode_label(source.labels, i, source.task_type),
                     str(path), "1", "1"])
    with open(root / "clips.csv", "w", newline="") as f:
        csv.writer(f).writerows([CLIP_COLUMNS, *rows])
    (root / "manifest.json").write_text(json.dumps({
        "format": FORMAT, "version": VERSION, "source": spec, "name": source.name,
        "task_type": source.task_type, "classes": source.classes, "sample_rate": 8000,
        "n_clips": len(source), "n_rejected": 0, "info": source.info}))
    return root


def test_each_loader_records_the_info_that_picks_its_table5_probe_row(tmp_path):
    from semisup.probe import PROBE_CONFIGS, probe_config, probe_config_key

    mtat, _ = write_mtat(tmp_path / "mtat")
    nsynth, vocalset = write_nsynth(tmp_path / "nsynth"), write_vocalset(tmp_path / "vocalset")
    gtzan = tmp_path / "gtzan"
    for file_id in ("blues.00000", "rock.00000", "rock.00001"):
        wav(gtzan / "genres" / file_id.split(".")[0] / f"{file_id}.wav")
    for name, entry in (("train", "blues.00000"), ("valid", "rock.00000"), ("test", "rock.00001")):
        touch(tmp_path / "lists" / f"{name}_filtered.txt").write_text(entry + "\n")
    emomusic = load_dataset("emomusic", write_emomusic(tmp_path / "emo"))
    embedded = write_embedded(tmp_path / "emb")
    source = load_dataset("nsynth", nsynth, label="pitch")
    prepared = load_dataset("prepared", write_prepared(tmp_path / "prep", source, f"nsynth:{nsynth}"))
    cases = [
        (load_dataset("mtat", mtat), "mtat:top50"),
        (load_dataset("mtat", mtat, subset="all"), "mtat:all"),
        (load_dataset("jamendo", write_jamendo(tmp_path / "j1")), "jamendo:top50tags"),
        (load_dataset("jamendo", write_jamendo(tmp_path / "j2", subset="moodtheme"), subset="mood"),
         "jamendo:moodtheme"),
        (source, "nsynth:pitch"),
        (load_dataset("nsynth", nsynth, label="instrument"), "nsynth:family"),
        (load_dataset("giantsteps", write_giantsteps(tmp_path / "gs")), "giantsteps"),
        (load_dataset("gtzan", gtzan, split_dir=tmp_path / "lists"), "gtzan"),
        (load_dataset("vocalset", vocalset), "vocalset:singer"),
        (load_dataset("vocalset", vocalset, label="technique"), "vocalset:technique"),
        (load_dataset("medleydb", write_medleydb(tmp_path / "medleydb")), "medleydb"),
        (emomusic, "emomusic"),
        (load_dataset("embedded", embedded, task="notes"), "nsynth:pitch"),
        (load_dataset("embedded", embedded, task="notes", label="family"), "nsynth:family"),
        (load_dataset("embedded", embedded, task="tags"), "mtat:top50"),
        (prepared, "nsynth:pitch"),
    ]
    for dataset, key in cases:
        assert (dataset.name, probe_config_key(dataset)) == (dataset.name, key)
        assert key in PROBE_CONFIGS
    assert (prepared.info["kind"], prepared.info["source_kind"], prepared.info["label"]) == (
        "prepared", "nsynth", "pitch")
    assert prepared.labels.tolist() == source.labels.tolist()
    config = probe_config(emomusic)  # a linear regression probe at lr 1e-4
    assert emomusic.task_type == "regression" and (config.hidden, config.lr) == ((), 1e-4)


# ------------------------------------------ true native layouts (semisup.data.fixtures)


def test_mtat_true_layout_folders_at_the_root_and_zero_byte_files(tmp_path):
    root = fixtures.write_mtat(tmp_path / "MTAT", n_clips=12, seconds=0.5)
    ds = load_dataset("mtat", root)
    assert ds.info["audio_dir"] == str(root)  # 0/ ... f/ at the root, no mp3/ level
    assert ds.info["dropped_without_tags"] == 2  # clips 5 and 11 carry no tag at all
    assert len(ds) == 12 - 2 + 3 and ds.split_sizes() == {"train": 10, "valid": 1, "test": 2}
    zero = {root / rel for rel in fixtures.MTAT_ZERO_BYTE.values()}
    assert zero <= set(ds.paths) and all(p.stat().st_size == 0 for p in zero)
    counts = load_dataset("mtat", root, subset="all").labels.sum(0)
    assert np.all(np.diff(ds.labels.sum(0)) <= 0)  # classes by frequency ...
    columns = [c for c in fixtures._MTAT_TAGS[:60] if c in ds.classes]
    assert columns != ds.classes and counts.max() == ds.labels[:, 0].sum()  # ... not by column
    assert read_chunk(ds.paths[0], 4000, 22050).abs().max() > 0.05
    with pytest.raises(AudioFileError, match="norine_braun"):
        read_chunk(root / fixtures.MTAT_ZERO_BYTE[35644], 4000, 22050)


def test_fma_true_layout_multiline_tracks_csv_and_id3_only_file(tmp_path):
    root = fixtures.write_fma(tmp_path / "fma", n_tracks=7, seconds=0.5, short_seconds=0.3)
    ds = load_dataset("fma", root)
    assert len(ds) == 8 and root / fixtures.FMA_NO_AUDIO in ds.paths  # listed, not decoded
    assert ds.split.tolist().count("valid") == 1 and ds.split.tolist().count("test") == 1
    assert read_chunk(ds.paths[4], 2000, 22050).shape == (2000,)  # 48 kHz stereo
    with pytest.raises(AudioFileError, match="099134.mp3.*not a regular file"):
        read_chunk(root / fixtures.FMA_NO_AUDIO, 2000, 22050)


def test_nsynth_true_layout_4_second_notes_are_padded_to_two_views(tmp_path):
    root = fixtures.write_nsynth(tmp_path / "nsynth", n_notes={"train": 3, "test": 2})
    ds = load_dataset("nsynth", root, label="family")
    assert ds.split_sizes() == {"train": 3, "test": 2} and ds.classes[9] == "synth_lead"
    x = read_chunk(ds.paths[0], 2 * 59535, 22050)  # 2 x 2.7 s from a 4 s note
    assert x[:80000].abs().max() > 0.01 and torch.all(x[88300:] == 0)
    examples = json.loads((root / "nsynth-train" / "examples.json").read_text())
    test = json.loads((root / "nsynth-test" / "examples.json").read_text())
    assert not {e["instrument"] for e in examples.values()} & {e["instrument"] for e in test.values()}
