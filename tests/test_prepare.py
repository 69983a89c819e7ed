"""python -m semisup.data.prepare on miniature copies of the real layouts (semisup.data.fixtures)."""

import json
import multiprocessing
import os
import signal

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from semisup.data.datasets import DatasetError, load_dataset
from semisup.data.fixtures import (
    FMA_NO_AUDIO,
    MTAT_ZERO_BYTE,
    write_fma,
    write_giantsteps,
    write_mtat,
    write_nsynth,
)
from semisup.data.prepare import main, parse_shard, prepare
from semisup.data.spec import DatasetSpec

SR = 22050


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Read-only source trees: MTAT (10 clips + 3 zero-byte), FMA (8 + ID3-only), NSynth."""
    root = tmp_path_factory.mktemp("sources")
    return {"mtat": write_mtat(root / "mtat", n_clips=10, seconds=1.0),
            "fma": write_fma(root / "fma", n_tracks=8, seconds=1.0, short_seconds=0.3),
            "nsynth": write_nsynth(root / "nsynth", seconds=1.0)}


def cli_killed_after(k, argv):
    os.environ["SEMISUP_PREPARE_KILL_AFTER"] = str(k)
    main(argv)


def prepared(out):
    return DatasetSpec.parse(f"prepared:{out}").load()


def rejected(out):
    lines = (out / "rejected.csv").read_text().splitlines()[1:]
    return dict(line.split(",", 1) for line in lines)


def same_dataset(prep, raw):
    assert (prep.name, prep.task_type, prep.classes) == (raw.name, raw.task_type, raw.classes)
    assert prep.split.tolist() == raw.split.tolist()
    if raw.labels is None:
        assert prep.labels is None
    else:
        assert np.array_equal(prep.labels, raw.labels) and prep.labels.dtype == raw.labels.dtype


def correlation(a, b):
    n = min(len(a), len(b)) - 400  # away from the resamplers' edges
    a, b = a[200:200 + n], b[200:200 + n]
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


def test_mtat_prepared_keeps_labels_splits_and_rejects_the_zero_byte_files(sources, tmp_path):
    out = tmp_path / "mtat_22k"
    summary = prepare(f"mtat:{sources['mtat']}?subset=top50", out, workers=1, progress=False)
    raw = load_dataset("mtat", sources["mtat"])
    zero = [sources["mtat"] / rel for rel in MTAT_ZERO_BYTE.values()]
    keep = np.array([p not in zero for p in raw.paths])
    assert keep.sum() == len(raw) - 3  # the loader lists them: prepare is what drops them
    prep = prepared(out)
    same_dataset(prep, raw.select(keep))
    assert summary.n_clips == len(prep) and summary.n_rejected == 3
    assert summary.reasons == {"empty": 3}
    assert rejected(out) == {str(p): "empty: 0 bytes" for p in zero}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["source"] == f"mtat:{sources['mtat']}?subset=top50"
    assert manifest["sample_rate"] == SR and manifest["settings"]["min_seconds"] == 0.5
    # 16-bit mono WAV at 22 050 Hz, content = the 16 kHz MP3 resampled (scipy, independent).
    for path, source in zip(prep.paths[:3], raw.select(keep).paths[:3], strict=True):
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype) == (SR, 1, "PCM_16")
        x, rate = sf.read(source, dtype="float64")
        y = sf.read(path, dtype="float64")[0]
        reference = resample_poly(x, 441, 320)  # 16 000 -> 22 050
        assert rate == 16000 and abs(len(y) - len(reference)) <= 1
        assert correlation(y, reference) > 0.995
        assert 0.98 < np.sum(y ** 2) / np.sum(reference[:len(y)] ** 2) < 1.02


def test_fma_rejects_the_id3_only_and_short_files_and_downmixes(sources, tmp_path):
    out = tmp_path / "fma_22k"
    prepare(f"fma:{sources['fma']}", out, workers=1, progress=False)
    raw = load_dataset("fma", sources["fma"])  # tracks.csv with multi-line quoted fields
    assert set(raw.split) == {"train", "valid", "test"}
    reasons = rejected(out)
    assert reasons[str(sources["fma"] / FMA_NO_AUDIO)].startswith("unreadable: ")
    assert "File does not exist or is not a regular file" in reasons[str(sources["fma"] / FMA_NO_AUDIO)]
    short = [r for p, r in reasons.items() if p.endswith(raw.paths[1].name)]
    assert len(reasons) == 2 and short[0].startswith("too short: 0.3")
    keep = np.array([str(p) not in reasons for p in raw.paths])
    prep = prepared(out)
    same_dataset(prep, raw.select(keep))
    stereo = raw.select(keep).paths[0]  # 44.1 kHz stereo
    x, rate = sf.read(stereo, dtype="float64")
    assert (rate, x.shape[1]) == (44100, 2)
    assert correlation(sf.read(prep.paths[0])[0], resample_poly(x.mean(1), 1, 2)) > 0.995
    rates = {sf.info(p).samplerate for p in raw.select(keep).paths}
    assert rates == {44100, 48000, 22050}
    assert {(sf.info(p).samplerate, sf.info(p).channels) for p in prep.paths} == {(SR, 1)}


def test_nsynth_notes_keep_their_pitch(sources, tmp_path):
    out = tmp_path / "ns"
    prepare(f"nsynth:{sources['nsynth']}?label=pitch", out, workers=1, progress=False)
    raw, prep = load_dataset("nsynth", sources["nsynth"]), prepared(out)
    same_dataset(prep, raw)
    for path, label in zip(prep.paths, prep.labels, strict=True):
        y = sf.read(path)[0][:SR // 2]
        peak_hz = np.argmax(np.abs(np.fft.rfft(y * np.hanning(len(y))))) * SR / len(y)
        midi = 69 + 12 * np.log2(peak_hz / 440)
        assert abs(midi - int(prep.classes[label])) < 0.5


def test_silent_and_short_sources_are_rejected(tmp_path):
    root = write_nsynth(tmp_path / "ns", n_notes={"train": 4}, seconds=1.0)
    paths = load_dataset("nsynth", root).paths
    sf.write(paths[0], np.zeros(16000, np.int16), 16000, subtype="PCM_16")
    sf.write(paths[1], np.full(16000, 1e-5), 16000, subtype="FLOAT")  # -100 dBFS
    sf.write(paths[2], 0.1 * np.ones(4000), 16000, subtype="PCM_16")  # 0.25 s
    summary = prepare(f"nsynth:{root}", tmp_path / "out", workers=1, progress=False,
                      min_seconds=0.3)
    reasons = rejected(tmp_path / "out")
    assert reasons[str(paths[0])] == "silent: RMS -inf dBFS < -80.0 dBFS"
    assert reasons[str(paths[1])].startswith("silent: RMS -100.0 dBFS")
    assert reasons[str(paths[2])] == "too short: 0.250 s < 0.3 s"
    assert summary.n_clips == 1 and summary.reasons == {"silent": 2, "too short": 1}


def test_a_killed_run_resumes_to_the_same_manifest(sources, tmp_path):
    spec = f"mtat:{sources['mtat']}?subset=top50"
    reference = prepare(spec, tmp_path / "whole", workers=2, progress=False)  # process pool
    killed = tmp_path / "killed"
    # The CLI in a child process (forked: no second torch import), SIGKILLed by the test hook
    # right after its 5th WAV is in place and before that clip is journaled.
    child = multiprocessing.get_context("fork").Process(
        target=cli_killed_after, args=(5, [spec, "--out", str(killed), "--workers", "1",
                                           "--no-progress"]))
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    assert not (killed / "manifest.json").exists() and not (killed / "clips.csv").exists()
    assert len(list((killed / "audio").rglob("*.wav"))) == 5
    journal = next((killed / ".prepare").glob("journal-*.jsonl")).read_text().splitlines()
    assert len(journal) == 4
    stray = killed / "audio" / "00" / ".0123.wav.k1ll3d"  # a kill in the middle of a write
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"RIFF")
    resumed = prepare(spec, killed, workers=1, progress=False)
    assert not stray.exists() and resumed.n_removed == 1
    assert (resumed.n_unchanged, resumed.n_prepared) == (4, reference.n_sources - 4)
    for name in ("clips.csv", "rejected.csv"):
        assert (killed / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    assert sorted(p.name for p in (killed / ".prepare").iterdir()) == ["journal.jsonl",
                                                                       "settings.json"]


def test_shards_then_merge_equal_one_run(sources, tmp_path):
    spec = f"fma:{sources['fma']}"
    whole = prepare(spec, tmp_path / "whole", workers=1, progress=False)
    out = tmp_path / "sharded"
    first = prepare(spec, out, workers=1, progress=False, shard="1/2")
    second = prepare(spec, out, workers=1, progress=False, shard=(2, 2))
    assert (first.n_sources, second.n_sources) == (5, 4) and first.n_clips is None
    assert not (out / "manifest.json").exists()
    merged = prepare(spec, out, workers=1, progress=False)
    assert merged.n_prepared == 0 and merged.n_unchanged == whole.n_sources == 9
    assert (out / "clips.csv").read_bytes() == (tmp_path / "whole" / "clips.csv").read_bytes()
    assert len(list((out / ".prepare").glob("journal*"))) == 1  # compacted


def test_changed_sources_are_redone_and_removed_ones_dropped(tmp_path):
    root = write_mtat(tmp_path / "mtat", n_clips=8, seconds=1.0)
    spec, out = f"mtat:{root}?subset=all", tmp_path / "out"
    prepare(spec, out, workers=1, progress=False)
    clips, manifest = (out / "clips.csv").read_text(), out / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    again = prepare(spec, out, workers=1, progress=False)  # nothing changed: nothing done
    assert (again.n_prepared, again.manifest_written, again.n_removed) == (0, False, 0)
    assert manifest.stat().st_mtime_ns == stamp

    raw = load_dataset("mtat", root, subset="all")
    touched, rewritten, removed = [p for p in raw.paths if p.stat().st_size][:3]
    os.utime(touched, ns=(10**18, 10**18))
    sf.write(rewritten, 0.2 * np.sin(np.arange(8000) / 5), 16000, format="MP3")
    changed = prepare(spec, out, workers=1, progress=False)
    assert changed.n_prepared == 2 and changed.manifest_written
    old_rows, new_rows = clips.splitlines(), (out / "clips.csv").read_text().splitlines()
    differ = [b for a, b in zip(old_rows, new_rows, strict=True) if a != b]
    assert len(differ) == 2 and f"{touched},{touched.stat().st_size},1000000000000000000" in differ[0]
    assert str(rewritten) in differ[1]

    table = root / "annotations_final.csv"
    lines = table.read_bytes().split(b"\r\n")
    table.write_bytes(b"\r\n".join(line for line in lines if removed.name.encode() not in line))
    shrunk = prepare(spec, out, workers=1, progress=False)
    assert shrunk.n_prepared == 0 and shrunk.n_removed == 1
    assert shrunk.n_clips == len(prepared(out)) == len(raw) - 1 - 3
    assert len(list((out / "audio").rglob("*.wav"))) == shrunk.n_clips


def test_refusals_name_what_is_wrong(sources, tmp_path, capsys):
    out = tmp_path / "out"
    prepare(f"nsynth:{sources['nsynth']}", out, workers=1, progress=False)
    with pytest.raises(ValueError, match=r"holds a preparation of 'nsynth:.*' at 22050 Hz.*"
                                         r"asks for 'nsynth:.*\?label=family'"):
        prepare(f"nsynth:{sources['nsynth']}?label=family", out, progress=False)
    with pytest.raises(ValueError, match=r"at 22050 Hz.*asks for .* at 16000 Hz"):
        prepare(f"nsynth:{sources['nsynth']}", out, sample_rate=16000, progress=False)
    with pytest.raises(ValueError, match="already prepared audio"):
        prepare(f"prepared:{out}", tmp_path / "again", progress=False)
    with pytest.raises(ValueError, match="not empty and holds no preparation"):
        prepare(f"nsynth:{sources['nsynth']}", sources["nsynth"], progress=False)
    with pytest.raises(ValueError, match="unknown dataset kind 'mtatt'"):
        prepare("mtatt:/data", out, progress=False)
    for bad in ["0/4", "5/4", "1-4", "one/two"]:
        with pytest.raises(ValueError, match=r"K/N with 1 <= K <= N .*1-based"):
            parse_shard(bad)
    assert parse_shard(" 2/4 ") == (2, 4) and parse_shard(None) is None
    with pytest.raises(SystemExit) as exit_info:
        main([f"nsynth:{sources['nsynth']}", "--out", str(out), "--shard", "3/2"])
    assert exit_info.value.code == 2 and "shard must be K/N" in capsys.readouterr().err


def test_a_copy_prepared_under_an_older_split_rule_is_refused_then_rewritten(tmp_path):
    # GiantSteps' default valid share became Table 5's 0.17: a copy prepared before holds 10 %.
    rows = "".join(f"{i}\t{key} minor\t2\n" for i, key in enumerate(["A", "C", "E", "D"] * 3))
    root = write_giantsteps(tmp_path / "gs", "ID\tMANUAL KEY\tC\n" + rows, {"900": "A minor"}, audio_seconds=1.0)
    source, out = f"giantsteps:{root}", tmp_path / "gs_16k"
    prepare(source, out, sample_rate=16000, workers=1, progress=False)
    assert load_dataset("prepared", out).info["split_rule"] == "table5"
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["info"]["split_rule"]  # as written before the rule existed
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match=r"older giantsteps split rule.*semisup.data.prepare .*--out"):
        load_dataset("prepared", out)
    summary = prepare(source, out, sample_rate=16000, workers=1, progress=False)
    assert (summary.n_prepared, summary.n_unchanged) == (0, 13)  # the audio is reused
    again = load_dataset("prepared", out)
    assert again.split_sizes() == load_dataset("giantsteps", root).split_sizes()
