"""The fixture trees copy the real layouts' quirks (REFERENCE "Real dataset layouts")."""

import json

import numpy as np
import pytest
import soundfile as sf
import yaml

from semisup.data.fixtures import (
    FMA_NO_AUDIO,
    MTAT_ZERO_BYTE,
    id3_only_bytes,
    music,
    write_fma,
    write_giantsteps,
    write_jamendo,
    write_medleydb,
    write_mp3,
    write_mtat,
    write_nsynth,
    write_vocalset,
)


def kbps(path):
    return 8 * path.stat().st_size / sf.info(path).duration / 1000


def test_mtat_annotations_are_tab_separated_fully_quoted_crlf(tmp_path):
    root = write_mtat(tmp_path / "mtat", n_clips=4, seconds=1.0, n_tags=5)
    text = (root / "annotations_final.csv").read_bytes()
    lines = text.split(b"\r\n")
    assert lines[-1] == b"" and b"\n" not in b"".join(lines)  # CRLF everywhere
    assert lines[0] == b'"clip_id"\t"no voice"\t"singer"\t"duet"\t"plucking"\t"hard rock"\t"mp3_path"'
    assert all(cell.startswith(b'"') and cell.endswith(b'"') for line in lines[:-1]
               for cell in line.split(b"\t"))
    assert len(lines) - 2 == 4 + 3
    for rel in MTAT_ZERO_BYTE.values():
        assert (root / rel).stat().st_size == 0 and rel.encode() in text
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [*"01689cd", "annotations_final.csv"])  # folders at the root (6, 8, 9: zero-byte)
    mp3 = next((root / "0").glob("*.mp3"))
    info = sf.info(mp3)
    assert (info.samplerate, info.channels) == (16000, 1) and 28 < kbps(mp3) < 36


def test_fma_tracks_csv_header_multiline_fields_and_id3_only_file(tmp_path):
    root = write_fma(tmp_path / "fma", n_tracks=6, seconds=1.0)
    text = (root / "fma_metadata" / "tracks.csv").read_text()
    head = text.split("\n")[:3]
    assert head[0].startswith(",album,") and head[1].startswith(",information,")
    assert head[2] == "track_id" + "," * 7
    assert '"<p>Recorded at home,\nrelease 0</p>"' in text and '"Track 2\n(live)"' in text
    data = (root / FMA_NO_AUDIO).read_bytes()
    assert data == id3_only_bytes("Untitled") and data[:3] == b"ID3" and b"TIT2" in data
    with pytest.raises(sf.LibsndfileError, match="not a regular file"):
        sf.info(root / FMA_NO_AUDIO)
    infos = [sf.info(p) for p in sorted((root / "fma_medium").rglob("*.mp3"))
             if p.stat().st_size > 1000]
    assert {(i.samplerate, i.channels) for i in infos} == {(44100, 2), (48000, 2), (22050, 1)}
    stereo = [p for p in (root / "fma_medium").rglob("*.mp3") if p.stat().st_size > 1000
              and sf.info(p).samplerate == 44100]
    assert all(240 < kbps(p) < 275 for p in stereo)


def test_jamendo_split_files_are_crlf_and_audio_is_where_download_py_unpacks_it(tmp_path):
    root = write_jamendo(tmp_path / "mtg-jamendo-dataset", tmp_path / "audio", n_tracks=8, seconds=2.0)
    folder = root / "data" / "splits" / "split-0"
    texts = {s: (folder / f"autotagging_top50tags-{s}.tsv").read_bytes() for s in ("train", "validation", "test")}
    assert all(t.startswith(b"TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\r\n") for t in texts.values())
    assert all(t.endswith(b"\r\n") and b"\n" not in t.replace(b"\r\n", b"") for t in texts.values())
    rows = [line.split(b"\t") for t in texts.values() for line in t.split(b"\r\n")[1:-1]]
    assert len(rows) == 8 and [len(t.split(b"\r\n")) - 2 for t in texts.values()] == [6, 1, 1]
    assert {len(r) - 5 for r in rows} <= {1, 2, 3, 4} and all(b"---" in tag for r in rows for tag in r[5:])
    for row in rows:  # PATH = NN/<id>.mp3 with NN = id % 100, under the download.py output folder
        track_id = int(row[0].decode().removeprefix("track_"))
        assert row[3].decode() == f"{track_id % 100:02d}/{track_id}.mp3"
        info = sf.info(tmp_path / "audio" / row[3].decode())
        assert (info.samplerate, info.channels) == (44100, 2) and abs(info.duration - 2.0) < 0.01
    assert 300 < kbps(tmp_path / "audio" / rows[0][3].decode()) < 340


def test_nsynth_examples_and_notes(tmp_path):
    root = write_nsynth(tmp_path / "ns", n_notes={"valid": 2})
    examples = json.loads((root / "nsynth-valid" / "examples.json").read_text())
    for note_str, example in examples.items():
        assert note_str == example["note_str"] and example["sample_rate"] == 16000
        assert note_str.endswith(f"-{example['pitch']:03d}-{example['velocity']:03d}")
        x, rate = sf.read(root / "nsynth-valid" / "audio" / f"{note_str}.wav")
        assert rate == 16000 and len(x) == 64000 and sf.info(
            root / "nsynth-valid" / "audio" / f"{note_str}.wav").subtype == "PCM_16"
        assert np.abs(x[:48000]).max() > 0.05 and np.abs(x[-100:]).max() < 0.01  # released


def test_same_seed_same_bytes(tmp_path):
    a = write_mtat(tmp_path / "a", n_clips=2, seconds=0.5, seed=3)
    b = write_mtat(tmp_path / "b", n_clips=2, seconds=0.5, seed=3)
    c = write_mtat(tmp_path / "c", n_clips=2, seconds=0.5, seed=4)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    assert (a / "annotations_final.csv").read_bytes() != (c / "annotations_final.csv").read_bytes()
    x = music(np.random.default_rng(0), 2.0, 8000, channels=2)
    assert x.shape == (16000, 2) and x.dtype == np.float32 and 0.49 < np.abs(x).max() <= 0.5
    assert not np.allclose(x[:, 0], x[:, 1])
    with pytest.raises(ValueError, match=r"kbps must be in \[8, 160\] at 16000 Hz"):
        write_mp3(tmp_path / "x.mp3", x[:, 0], 16000, kbps=256)


def test_medleydb_metadata_for_every_track_audio_for_v1_and_v2_only(tmp_path):
    stems = [{"track": t, "release": r, "stem_dir": f"{t}_STEMS", "stem": "S01", "filename": f"{t}_STEM_01.wav",
              "instrument": i} for t, r, i in (("A_Song", "V1", "piano"), ("B_Song", "V2", "violin"),
                                              ("C_Song", "extra", "male singer|vocalists"))]
    root = write_medleydb(tmp_path / "medleydb", stems, audio_seconds=0.2)
    meta = root / "medleydb" / "data" / "Metadata"
    assert sorted(p.name for p in meta.iterdir()) == [f"{t}_METADATA.yaml" for t in ("A_Song", "B_Song", "C_Song")]
    extra = yaml.safe_load((meta / "C_Song_METADATA.yaml").read_text())
    assert extra["stem_dir"] == "C_Song_STEMS" and extra["stems"]["S01"]["instrument"] == ["male singer", "vocalists"]
    info = sf.info(root / "MedleyDB_V2" / "V2" / "B_Song" / "B_Song_STEMS" / "B_Song_STEM_01.wav")
    assert (info.samplerate, round(info.duration, 2)) == (44100, 0.2)
    assert not any((root / d).exists() for d in ("MedleyDB_V1/V1/C_Song", "MedleyDB_V2/V2/C_Song"))


def test_giantsteps_annotations_unchanged_keys_without_newline_stereo_mp3(tmp_path):
    annotations = "ID\tMANUAL KEY\tC\n5061\tD# minor\t2\n16484\tA minor\t1\n"
    root = write_giantsteps(tmp_path / "gs", annotations, {"10089": "Ab major"}, audio_seconds=0.5)
    mtg, orig = root / "giantsteps-mtg-key-dataset", root / "giantsteps-key-dataset"
    assert (mtg / "annotations" / "annotations.txt").read_text() == annotations
    assert (orig / "annotations" / "key" / "10089.LOFI.key").read_bytes() == b"Ab major"
    info = sf.info(mtg / "audio" / "16484.LOFI.mp3")
    assert (info.samplerate, info.channels, info.format) == (44100, 2, "MP3")
    assert (orig / "audio" / "10089.LOFI.mp3").stat().st_size > 0


def test_vocalset_tree_names_lists_and_the_macos_file(tmp_path):
    files = {"female1": {"arpeggios/belt": 2}, "male3": {"long_tones/vibrato": 6}}
    root = write_vocalset(tmp_path / "vocalset", files, test_singers=["male3"], audio_seconds=None)
    tree = root / "data_by_singer"
    assert sorted(p.name for p in (tree / "male3" / "long_tones" / "vibrato").iterdir()) == [
        f"m3_long_tones_vibrato_{t}.wav" for t in ("5", "a", "e", "i", "o", "u")]
    assert (tree / "female1" / "._junk.wav").is_file()
    assert (root / "train_singers_technique.txt").read_text() == "female1\n"
    assert (root / "test_singers_technique.txt").read_text() == "male3\n"
