"""Export a run and load it three ways (load_encoder, from_pretrained, torch.hub): the same embeddings, bit for bit."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

import semisup
from semisup import embed, export
from semisup.evaluate import frozen_encoder
from semisup.hub import SemiSupConEncoder
from semisup.paths import repo_root
from semisup.train import load_encoder


def _audio(n=3, length=19683, seed=0):
    return torch.rand(n, length, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_three_ways_to_load_give_the_run_encoder_bit_for_bit(tiny_run, tiny_export):
    audio = _audio()
    with torch.no_grad():
        reference = load_encoder(tiny_run)(audio)
        loaded = {
            "load_encoder": semisup.load_encoder(tiny_export)(audio),
            "from_pretrained": SemiSupConEncoder.from_pretrained(tiny_export)(audio),
            "torch.hub": torch.hub.load(str(repo_root()), "semisupcon", source="local", path=str(tiny_export))(audio),
            "torch.hub run folder": torch.hub.load(str(repo_root()), "semisupcon", source="local",
                                                   path=str(tiny_run))(audio),
        }
    for way, embeddings in loaded.items():
        assert torch.equal(embeddings, reference), way


def test_exported_folder_contents(tiny_run, tiny_export):
    assert sorted(p.name for p in tiny_export.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    config = json.loads((tiny_export / "config.json").read_text())
    run_config = json.loads((tiny_run / "config.json").read_text())
    assert config["encoder"]["name"] == "small" and config["encoder"]["sample_rate"] == 16000
    assert config["encoder"]["crop_samples"] == 19683 and config["projection_head"] is False
    assert config["training"] == run_config  # the training config and its dataset specs
    from safetensors import safe_open

    with safe_open(tiny_export / "model.safetensors", "pt") as weights:
        assert all(name.startswith("encoder.") for name in weights.keys())  # projection head dropped
    card = (tiny_export / "README.md").read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert front["library_name"] == "semisup" and front["datasets"] == ["embedded"]
    for text in ("16000 Hz", "19683 samples", "2 steps", "No probe results", "@inproceedings{guinot2024semisupcon",
                 "TimGM6mb", "from_pretrained", "torch.hub.load", "hear.load_model"):
        assert text in card, text


def test_projection_head_and_probe_results_reach_the_export(tiny_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    rows = [{"run": "run", "checkpoint": "x", "task": "embedded:t?task=tags", "metric": metric, "value": value,
             "seed": seed} for seed, value in ((0, 0.8), (1, 0.9)) for metric in ("roc_auc", "n_skipped_test")]
    pd.DataFrame(rows).to_csv(run / "probe_results.csv", index=False)
    out = export.main([str(run), str(tmp_path / "out"), "--projection-head"])
    model = SemiSupConEncoder.from_pretrained(out)
    state = torch.load(run / "checkpoint.pt", weights_only=True)["model"]
    assert torch.equal(model.projection.layers[2].weight, state["projection.layers.2.weight"])
    card = (out / "README.md").read_text()
    assert "| `embedded:t?task=tags` | roc_auc | 0.8500 | 2 |" in card
    assert yaml.safe_load(card.split("---")[1])["metrics"] == ["roc_auc"]
    with pytest.raises(ValueError, match="exists; choose a new OUT_DIR or pass --force"):
        export.export_run(run, out)
    export.export_run(run, out, force=True)  # replaced, nothing left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "run"]


def test_evaluate_and_embed_take_an_exported_folder(tiny_run, tiny_export, tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv("SEMISUP_CACHE_DIR", str(tmp_path / "cache"))
    encoder, name, cache = frozen_encoder(str(tiny_export), None, 0, "cpu")
    assert name == "semisupcon-tiny" and cache == tmp_path / "cache" / "embeddings"  # not inside the export
    track = sorted(tiny_data.rglob("*.wav"))[0]
    arrays = {folder: embed.main([str(folder), str(track), "--out", str(tmp_path / f"{i}.npz"), "--workers", "0",
                                  "--device", "cpu", "--no-progress"])
              for i, folder in enumerate((tiny_run, tiny_export))}
    assert np.array_equal(arrays[tiny_run]["embeddings"], arrays[tiny_export]["embeddings"])
    assert arrays[tiny_run]["checkpoint"] == arrays[tiny_export]["checkpoint"]  # same weights, same cache key
