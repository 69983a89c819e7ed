"""python -m semisup.evaluate: any encoder (a run, a random initialisation) on any dataset spec."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from semisup import evaluate
from semisup.data import fixtures
from semisup.encoders import random_encoder
from semisup.extract import weights_hash
from semisup.metrics import chance_level
from semisup.train import load_encoder


def test_random_init_on_mtat_counts_the_zero_byte_files_and_completes(tmp_path, capsys):
    root = fixtures.write_mtat(tmp_path / "MTAT", n_clips=32, seconds=1.5)
    out = tmp_path / "results.csv"
    with pytest.warns(UserWarning, match="skipping bad audio file") as record:
        table = evaluate.main(["--random-init", "small", "--seed", "0", "--task", f"mtat:{root}", "--out", str(out),
                               "--max-epochs", "2", "--workers", "0", "--cache-dir", str(tmp_path / "cache"),
                               "--no-progress"])
    zero_byte = sorted(str(root / rel) for rel in fixtures.MTAT_ZERO_BYTE.values())
    assert sorted(p for p in zero_byte if any(p in str(w.message) for w in record)) == zero_byte
    counts = table[table["metric"].str.startswith("n_skipped")].set_index("metric")["value"].to_dict()
    assert counts == {"n_skipped_train": 3, "n_skipped_valid": 0, "n_skipped_test": 0}  # folders 6, 8, 9: train
    assert set(table["run"]) == {"random-init-small"} and set(table["task"]) == {f"mtat:{root}"}
    assert set(table["protocol"]) == {"crops"}  # the authors' protocol by default
    assert set(table["checkpoint"]) == {weights_hash(random_encoder("small", 0))}
    assert 0 <= table.set_index("metric").loc["auroc", "value"] <= 1
    assert pd.read_csv(out).equals(table)
    assert sorted(pd.read_csv(tmp_path / "results_skipped.csv")["path"]) == zero_byte
    printed = capsys.readouterr().out
    assert "score %" in printed and "chance %" in printed and "auroc" in printed and "50.0" in printed


def test_cli_on_nsynth_appends_to_the_csv_and_keeps_it_whole_on_failure(tmp_path):
    root = fixtures.write_nsynth(tmp_path / "nsynth", n_notes={"train": 8, "valid": 4, "test": 4}, seconds=1.5)
    out = tmp_path / "results.csv"
    pd.DataFrame([{"run": "earlier", "checkpoint": "x", "task": "t", "metric": "accuracy", "value": 0.5,
                   "seed": 0, "protocol": "crops"}]).to_csv(out, index=False)
    spec = f"nsynth:{root}?label=pitch"
    command = [sys.executable, "-m", "semisup.evaluate", "--random-init", "small", "--task", spec, "--out", str(out),
               "--max-epochs", "2", "--workers", "2", "--no-progress"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out)
    assert table["run"].tolist()[:1] == ["earlier"] and len(table) == 1 + 4  # accuracy + 3 skip counts
    assert set(table["run"][1:]) == {"random-init-small"} and set(table["task"][1:]) == {spec}
    n_classes = len(evaluate.DatasetSpec.parse(spec).load().classes)
    assert "nsynth-pitch" in done.stdout and f"{100 / n_classes:.1f}" in done.stdout  # chance = 1 / n_classes
    before = out.read_bytes()
    bad = subprocess.run([*command, "--task", f"nsynth:{tmp_path}/absent"], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode != 0 and f"{tmp_path}/absent" in bad.stderr
    assert out.read_bytes() == before


def test_the_averaged_protocol_is_an_option_and_never_lands_in_a_crops_csv(tmp_path):
    root = fixtures.write_nsynth(tmp_path / "nsynth", n_notes={"train": 8, "valid": 4, "test": 4}, seconds=1.5)
    out = tmp_path / "results.csv"
    common = ["--random-init", "small", "--task", f"nsynth:{root}?label=pitch", "--out", str(out), "--max-epochs",
              "2", "--workers", "0", "--no-progress", "--cache-dir", str(tmp_path / "cache")]
    averaged = evaluate.main([*common, "--protocol", "averaged"])
    assert set(averaged["protocol"]) == {"averaged"}
    before = out.read_bytes()
    with pytest.raises(ValueError, match="holds probe results of protocol \\['averaged'\\]"):
        evaluate.main(common)  # crops, the default
    assert out.read_bytes() == before
    crops = evaluate.main([*common[:4], "--out", str(tmp_path / "crops.csv"), *common[6:]])
    assert set(crops["protocol"]) == {"crops"}
    # Test embeddings (track means) are shared, so they came from the cache: 3 pools + 3 means.
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 3 + 2


def test_a_trained_run_is_evaluated_from_its_folder(tiny_run, tiny_data, tmp_path):
    spec = f"embedded:{tiny_data}?task=notes&label=pitch"
    table = evaluate.main([str(tiny_run), "--task", spec, "--max-epochs", "2", "--workers", "0", "--no-progress",
                           "--device", "cpu"])
    assert set(table["run"]) == {tiny_run.name} and set(table["checkpoint"]) == {weights_hash(load_encoder(tiny_run))}
    assert 0 <= table.set_index("metric").loc["accuracy", "value"] <= 1
    assert any((tiny_run / "embeddings").glob("*.npz"))  # the run's own cache


def test_random_init_is_a_pure_function_of_the_seed():
    state = torch.random.get_rng_state()
    a, b, c = random_encoder("small", 0), random_encoder("small", 0), random_encoder("small", 1)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG is untouched
    assert weights_hash(a) == weights_hash(b) != weights_hash(c) and not a.training


def test_bad_command_lines_are_refused(capsys):
    for argv in (["--task", "mtat:/d"], ["runs/x", "--random-init", "small", "--task", "mtat:/d"]):
        with pytest.raises(SystemExit):
            evaluate.main(argv)
        assert "exactly one of them" in capsys.readouterr().err
    with pytest.raises(ValueError, match="choose one of"):
        evaluate.frozen_encoder(None, "resnet", 0)


def test_chance_levels():
    keys = ["C major", "G major", "A minor", "C minor"]
    assert chance_level("accuracy", np.array([0, 1]), ["a", "b", "c", "d"]) == 0.25
    assert chance_level("auroc") == 0.5 and chance_level("r2") == 0.0 and chance_level("ap") is None
    # Reference C major against 4 guesses: exact 1 + fifth (G) 0.5 + relative (A minor) 0.3 + parallel 0.2.
    assert chance_level("weighted", np.array([0]), keys) == pytest.approx(2.0 / 4)
    from semisup.data.datasets.base import KEY_CLASSES

    assert chance_level("weighted", np.array([0, 5, 13]), KEY_CLASSES) == pytest.approx(2.0 / 24)
