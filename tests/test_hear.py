"""The HEAR 2021 common API, rule by rule, on every encoder (short inputs: CPU-fast)."""

import inspect
import math

import pytest
import torch

from semisup import hear
from semisup.data.audio import cut_crops
from semisup.encoders import random_encoder
from semisup.hub import SemiSupConEncoder

HEAR_SAMPLE_RATES = (16000, 22050, 32000, 44100, 48000)  # the rates HEAR tasks are published at
ENCODERS = ("small", "samplecnn", "tuneplus")


@pytest.fixture(scope="module", params=ENCODERS)
def model(request, tmp_path_factory):
    """``hear.load_model`` of an exported folder holding a random encoder of each kind."""
    folder = tmp_path_factory.mktemp(f"export-{request.param}")
    SemiSupConEncoder.from_encoder(random_encoder(request.param, 0)).save_pretrained(folder)
    return hear.load_model(str(folder))


def _noise(n_sounds, seconds, sample_rate, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n_sounds, int(seconds * sample_rate), generator=generator) * 2 - 1  # [-1, 1], as HEAR's validator


def test_signatures_follow_the_spec():
    load = inspect.signature(hear.load_model).parameters
    assert list(load) == ["model_file_path"] and load["model_file_path"].default == ""
    assert list(inspect.signature(hear.get_scene_embeddings).parameters) == ["audio", "model"]
    timestamp = inspect.signature(hear.get_timestamp_embeddings).parameters
    assert list(timestamp)[:2] == ["audio", "model"]
    assert all(p.default is not inspect.Parameter.empty for p in list(timestamp.values())[2:])  # extensions optional


def test_model_attributes(model):
    assert isinstance(model, torch.nn.Module) and not model.training
    assert model.sample_rate in HEAR_SAMPLE_RATES
    for name in ("scene_embedding_size", "timestamp_embedding_size"):
        value = getattr(model, name)
        assert type(value) is int and value == 512


@pytest.mark.parametrize("crops", [0.2, 1.5])  # shorter than one crop, and one crop plus a tail
def test_scene_embeddings(model, crops):
    audio = _noise(2, crops * model.crop_samples / model.sample_rate, model.sample_rate)
    embeddings = hear.get_scene_embeddings(audio, model)
    assert embeddings.dtype == torch.float32 and embeddings.shape == (2, model.scene_embedding_size)
    with torch.no_grad():  # the probes' crop mean: non-overlapping crops from the start, tail dropped
        expected = torch.stack([model.encoder(cut_crops(sound, model.crop_samples)).mean(0) for sound in audio])
    torch.testing.assert_close(embeddings, expected, rtol=1e-4, atol=1e-5)


def test_timestamp_embeddings_short_sound(model):
    """Default hop, a sound far shorter than one crop: shapes, dtype, spacing, centring."""
    seconds = 0.12
    audio = _noise(2, seconds, model.sample_rate, seed=1)
    embeddings, timestamps = hear.get_timestamp_embeddings(audio, model)
    assert embeddings.dtype == torch.float32 and embeddings.dim() == 3
    assert embeddings.shape[0] == 2 and embeddings.shape[2] == model.timestamp_embedding_size
    assert timestamps.shape == embeddings.shape[:2]
    assert timestamps[0].tolist() == [0.0, 50.0, 100.0] and torch.equal(timestamps[0], timestamps[1])
    # frame k is the crop centred on sample round(t_k * sr / 1000), zero-padded beyond the sound
    half = model.crop_samples // 2
    padded = torch.nn.functional.pad(audio, (half, model.crop_samples - half))
    centre = round(0.05 * model.sample_rate)
    with torch.no_grad():
        expected = model.encoder(padded[:, centre:centre + model.crop_samples])
    torch.testing.assert_close(embeddings[:, 1], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("seconds", [1.07, 1.98])  # two of the HEAR validator's lengths
def test_timestamps_rules_of_the_validator(seconds):
    model = hear.HearModel(random_encoder("small", 0)).eval()
    audio = _noise(2, seconds, model.sample_rate)
    embeddings, timestamps = hear.get_timestamp_embeddings(audio, model)
    duration_ms = 1000 * audio.shape[1] / model.sample_rate
    steps = torch.diff(timestamps, dim=1)
    assert (steps - steps.mean()).abs().max() < 1 and steps.max() <= 50  # regular, <= 50 ms
    assert timestamps.min() <= steps.mean()  # starts at the beginning
    assert duration_ms - steps.mean() <= timestamps.max() <= duration_ms  # ends within one hop of the end
    assert embeddings.shape == (2, timestamps.shape[1], 512)


def test_frame_times_do_not_drift():
    """A 1102.5-sample hop (22 050 Hz, 50 ms) over 20 minutes: every centre exact, the last frame in the sound."""
    sample_rate, n_samples = 22050, 20 * 60 * 22050 + 777
    times, centres = hear.frame_times(n_samples, sample_rate, 50.0)
    k = torch.arange(len(times), dtype=torch.float64)
    assert torch.equal(times, k * 50.0)
    assert torch.equal(centres, torch.round(k * 1102.5).long())
    assert times[-1] <= 1000 * n_samples / sample_rate < times[-1] + 50
    assert len(hear.frame_times(1, 16000, 50.0)[0]) == 1  # one sample: one frame at 0 ms


def test_sounds_are_independent_and_custom_hop():
    model = hear.HearModel(random_encoder("small", 0)).eval()
    audio = _noise(3, 0.4, model.sample_rate, seed=2)
    together, _ = hear.get_timestamp_embeddings(audio, model, hop_ms=100)
    alone, times = hear.get_timestamp_embeddings(audio[1:2], model, hop_ms=100)
    torch.testing.assert_close(together[1:2], alone, rtol=1e-4, atol=1e-5)
    assert times[0].tolist() == [0.0, 100.0, 200.0, 300.0, 400.0]
    torch.testing.assert_close(hear.get_scene_embeddings(audio, model)[2:],
                               hear.get_scene_embeddings(audio[2:], model), rtol=1e-4, atol=1e-5)


def test_bad_audio_is_a_clear_error():
    model = hear.HearModel(random_encoder("small", 0)).eval()
    with pytest.raises(TypeError, match="torch.Tensor"):
        hear.get_scene_embeddings(_noise(1, 0.1, 16000).numpy(), model)
    with pytest.raises(ValueError, match=r"\[n_sounds, n_samples\].*audio\[None\]"):
        hear.get_scene_embeddings(_noise(1, 0.1, 16000)[0], model)
    with pytest.raises(ValueError, match="float"):
        hear.get_scene_embeddings(torch.zeros(1, 100, dtype=torch.int16), model)
    with pytest.raises(ValueError, match="NaN"):
        hear.get_timestamp_embeddings(torch.full((1, 100), math.nan), model)
    with pytest.raises(ValueError, match="at least one sample"):
        hear.get_timestamp_embeddings(torch.zeros(1, 0), model)
    with pytest.raises(ValueError, match="hop_ms"):
        hear.get_timestamp_embeddings(torch.zeros(1, 100), model, hop_ms=0)


def test_load_model_paths(tiny_run, tmp_path):
    from semisup.train import load_encoder

    audio = _noise(1, 0.5, 16000)
    reference = hear.get_scene_embeddings(audio, hear.HearModel(load_encoder(tiny_run)))
    for path in (tiny_run, tiny_run / "checkpoint.pt", tiny_run / "config.json"):
        assert torch.equal(hear.get_scene_embeddings(audio, hear.load_model(str(path))), reference)
    with pytest.warns(UserWarning, match="untrained SampleCNN"):
        untrained = hear.load_model()
    assert untrained.sample_rate == 22050
    with pytest.raises(FileNotFoundError, match="does not exist"):
        hear.load_model(str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="semisup.export"):
        hear.load_model(str(tmp_path))  # an empty folder: neither a run nor an export
    (tmp_path / "weights.bin").write_bytes(b"0")
    with pytest.raises(ValueError, match="weights.bin"):
        hear.load_model(str(tmp_path / "weights.bin"))
