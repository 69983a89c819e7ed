"""Loading never runs code: tensor-only checkpoints, RNG states as tensors, refused pickles."""

import os
import random
import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

from semisup.checkpoint import load_checkpoint, read_safetensors, restore_rng_states, rng_states
from semisup.train import load_config, load_encoder, train

MARKER = "semisup-pwned"


class _RunsCode:
    """Unpickling this calls os.system: what a crafted checkpoint.pt does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture
def crafted_run(tiny_run, tmp_path):
    """A copy of a real run whose checkpoint.pt also holds an object that runs code when unpickled."""
    run = tmp_path / "crafted"
    shutil.copytree(tiny_run, run)
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    state["payload"] = _RunsCode(tmp_path / MARKER)
    torch.save(state, run / "checkpoint.pt")
    return run


def test_a_checkpoint_that_runs_code_is_refused_everywhere(crafted_run, tmp_path):
    from semisup import hear
    from semisup.export import export_run

    attempts = [lambda: load_encoder(crafted_run), lambda: hear.load_model(str(crafted_run)),
                lambda: export_run(crafted_run, tmp_path / "out"),
                lambda: train(replace(load_config(crafted_run), run_dir=str(crafted_run)))]  # resume
    for attempt in attempts:
        with pytest.raises(ValueError, match=r"crafted/checkpoint\.pt is not a tensor-only checkpoint.*posix\.system"):
            attempt()
    assert not (tmp_path / MARKER).exists(), "unpickling ran the payload"
    assert not (tmp_path / "out").exists()


def test_checkpoints_written_by_train_are_tensor_only(tiny_run):
    state = torch.load(tiny_run / "checkpoint.pt", weights_only=True)  # plain torch, no allow-list
    assert set(state) == {"step", "model", "optimizer", "sampler", "rng", "config"}
    assert isinstance(state["rng"]["numpy"]["key"], torch.Tensor)


def test_rng_states_round_trip_through_a_tensor_only_file(tmp_path):
    path = tmp_path / "rng.pt"
    torch.save({"rng": rng_states()}, path)
    expected = (np.random.rand(3), random.random(), torch.rand(3))
    restore_rng_states(load_checkpoint(path)["rng"])
    assert np.array_equal(np.random.rand(3), expected[0]) and random.random() == expected[1]
    assert torch.equal(torch.rand(3), expected[2])


def test_checkpoints_from_before_safe_loading_still_load(tmp_path):
    """They hold NumPy's RNG state as an ndarray: numeric arrays are accepted, and resume is exact."""
    path = tmp_path / "old.pt"
    torch.save({"rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}},
               path)
    expected = (np.random.rand(3), random.random())
    restore_rng_states(load_checkpoint(path)["rng"])
    assert np.array_equal(np.random.rand(3), expected[0]) and random.random() == expected[1]


def test_unreadable_files_are_named(tmp_path):
    good = tmp_path / "good.pt"
    torch.save({"x": torch.ones(1000)}, good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(ValueError, match="truncated.pt is not a readable torch checkpoint"):
        load_checkpoint(truncated)
    with pytest.raises(FileNotFoundError, match="absent.pt"):
        load_checkpoint(tmp_path / "absent.pt")
    (tmp_path / "w.safetensors").write_bytes(b"\x10\x00")
    with pytest.raises(ValueError, match="w.safetensors is not a readable safetensors file"):
        read_safetensors(tmp_path / "w.safetensors")
