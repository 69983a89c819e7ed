import pytest
import torch
from torch import nn

from semisup.encoders import ContrastiveModel, ProjectionHead, build_encoder


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_samplecnn_matches_clmr_architecture():
    enc = build_encoder("samplecnn")
    convs = [m for m in enc.modules() if isinstance(m, nn.Conv1d)]
    assert [c.out_channels for c in convs] == [128, 128, 128, 256, 256, 256, 256, 256, 256, 512, 512]
    assert convs[0].stride == (3,) and convs[0].kernel_size == (3,)
    assert sum(isinstance(m, nn.MaxPool1d) for m in enc.modules()) == 9
    assert n_params(enc) == 2_368_512  # ~2.37 M, REFERENCE.md
    assert (enc.sample_rate, enc.crop_samples) == (22050, 59535)
    # the paper's crop pools down to exactly one time step (no averaging involved)
    x = torch.randn(2, 1, 59535)
    assert enc.head(enc.blocks(enc.stem(x))).shape == (2, 512, 1)


def test_tuneplus_size_and_output():
    enc = build_encoder("tuneplus")
    assert 2.1e6 < n_params(enc) < 2.3e6  # 2.2 M in Vásquez & Burgoyne's README
    assert enc(torch.randn(2, 59535)).shape == (2, 512)


def test_small_config_is_small_and_fast_shape():
    enc = build_encoder("small")
    assert n_params(enc) < n_params(build_encoder("samplecnn")) / 2
    assert enc.sample_rate == 16000 and enc.crop_samples == 19683
    assert enc(torch.randn(3, enc.crop_samples)).shape == (3, 512)


@pytest.mark.parametrize(("name", "bad", "hint"), [
    ("samplecnn", 59048, ">= 59049"),
    ("small", 1000, ">= 19683"),
    ("tuneplus", 59536, "multiple of 81"),
])
def test_wrong_lengths_say_which_work(name, bad, hint):
    enc = build_encoder(name)
    with pytest.raises(ValueError, match=hint):
        enc(torch.randn(1, bad))


def test_bad_shapes_and_names():
    enc = build_encoder("small")
    with pytest.raises(ValueError, match="mono"):
        enc(torch.randn(2, 2, enc.crop_samples))
    with pytest.raises(ValueError, match="unknown encoder"):
        build_encoder("resnet")
    with pytest.raises(ValueError, match="unknown encoder config"):
        build_encoder("small", widht=3)


def test_longer_inputs_are_averaged_over_time():
    enc = build_encoder("small").eval()
    x = torch.randn(1, 2 * enc.crop_samples)
    assert enc(x).shape == (1, 512)


def test_projection_head_and_contrastive_model():
    head = ProjectionHead()
    linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features, m.bias) for m in linears] == [(512, 512, None), (512, 128, None)]
    torch.manual_seed(0)
    model = ContrastiveModel(build_encoder("small"))
    z = model(torch.randn(3, 2, 19683))
    assert z.shape == (3, 2, 128)


def test_same_seed_same_weights():
    torch.manual_seed(1)
    a = build_encoder("small").state_dict()
    torch.manual_seed(1)
    b = build_encoder("small").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
