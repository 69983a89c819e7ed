"""torch.hub entry points: ``torch.hub.load(<clone of this repo>, "semisupcon", source="local", path=...)``.

``path`` is a folder written by ``python -m semisup.export`` or a run folder of
``semisup.train``; only tensors are read from it (:mod:`semisup.checkpoint`).
"""

dependencies = ["torch", "torchaudio", "safetensors", "huggingface_hub"]


def semisupcon(path: str, device: str = "cpu"):
    """Return the frozen SemiSupCon encoder stored at ``path`` (eval mode): audio ``[B, L]`` -> ``[B, 512]``.

    An exported folder loads as :class:`semisup.hub.SemiSupConEncoder` (``from_pretrained``);
    a run folder's encoder is wrapped the same way (projection head dropped).
    """
    from semisup.hub import SemiSupConEncoder, is_export, load_export
    from semisup.train import load_config, load_encoder

    if is_export(path):
        return load_export(path, device)
    from dataclasses import asdict

    return SemiSupConEncoder.from_encoder(load_encoder(path), training=asdict(load_config(path))).to(device)
