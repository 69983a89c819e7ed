"""SemiSupConEncoder: huggingface_hub's save/from_pretrained round trip, strict tensor-only reads, named errors."""

import json
import shutil

import pytest
import torch

from semisup import export
from semisup.hub import SemiSupConEncoder
from semisup.train import load_encoder


def test_a_loaded_model_saves_again_as_push_to_hub_does(tiny_export, tmp_path):
    """push_to_hub = save_pretrained into a folder, then upload: the folder must rebuild the same model."""
    loaded = SemiSupConEncoder.from_pretrained(tiny_export)
    loaded.save_pretrained(tmp_path / "again")
    assert json.loads((tmp_path / "again" / "config.json").read_text()) == \
        json.loads((tiny_export / "config.json").read_text())
    assert (tmp_path / "again" / "README.md").read_text().startswith("---\n")
    audio = torch.rand(2, loaded.crop_samples)
    with torch.no_grad():
        assert torch.equal(SemiSupConEncoder.from_pretrained(tmp_path / "again")(audio), loaded(audio))


def test_weights_must_match_the_config(tiny_export, tmp_path):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "partial"
    shutil.copytree(tiny_export, folder)
    state = load_file(folder / "model.safetensors")
    del state["encoder.stem.0.weight"]
    save_file(state, folder / "model.safetensors")
    with pytest.raises(ValueError, match=r"partial/model.safetensors does not match .*config.json: missing tensors"):
        SemiSupConEncoder.from_pretrained(folder)


def test_bad_folders_are_named(tiny_export, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"notarun/config.json not found.*semisup.export"):
        load_encoder(tmp_path / "notarun")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_export, broken)
    data = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"broken/model.safetensors is not a readable safetensors file"):
        load_encoder(broken)
    unknown = tmp_path / "unknown"
    shutil.copytree(tiny_export, unknown)
    config = json.loads((unknown / "config.json").read_text())
    config["encoder"]["name"] = "resnet"
    (unknown / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"unknown/config.json: cannot rebuild the encoder: encoder name 'resnet'"):
        SemiSupConEncoder.from_pretrained(unknown)
    (unknown / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"unknown/config.json not found"):
        load_encoder(unknown)
    with pytest.raises(ValueError, match="already an exported folder"):
        export.export_run(tiny_export, tmp_path / "again")


