"""Read weights without running code: tensor-only checkpoints and safetensors files.

A ``checkpoint.pt`` is a pickle; ``torch.load(..., weights_only=False)`` on a file someone
sent you can execute arbitrary code. Everything here reads tensors and plain containers
only, so a run folder, an exported folder or a resumed run is safe to open.

Conventions
-----------
- :func:`load_checkpoint` is ``torch.load(weights_only=True)``: tensors, dicts, lists,
  tuples, str, int, float, bool and None. A file that needs anything else is refused with a
  ``ValueError`` naming it. The one exception: checkpoints written before this module
  stored NumPy's RNG state as a uint32 ``ndarray``, so such arrays (NumPy's own
  ``_reconstruct``, ``ndarray``, ``dtype`` and the uint32 dtype class) are accepted; any
  other dtype, object arrays included, is refused.
- :func:`rng_states` captures the torch, NumPy and Python RNGs in that tensor-only form
  (NumPy's key as an int64 tensor), and :func:`restore_rng_states` reads both forms, so
  resume is bit-exact without unpickling.
- :func:`read_safetensors` reads a ``.safetensors`` file; a truncated or corrupt one is a
  ``ValueError`` naming it.
"""

from __future__ import annotations

import os
import pickle
import random
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

__all__ = ["load_checkpoint", "read_safetensors", "rng_states", "restore_rng_states"]

_NUMPY_CORE = getattr(np, "_core", None) or np.core  # NumPy 2 renamed np.core to np._core
# What a pickled numeric ndarray needs (NumPy's RNG state in pre-safe-loading checkpoints).
# (NumPy >= 1.25 pickles a dtype through its class: the MT19937 key is uint32.)
_NUMPY_ARRAY_GLOBALS = [_NUMPY_CORE.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Load a ``torch.save`` file with ``weights_only=True``; refuse anything that is not data.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` needs code to unpickle (a crafted or foreign pickle), or is truncated or
        not a torch file at all; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    try:
        with torch.serialization.safe_globals(_NUMPY_ARRAY_GLOBALS):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        unsafe = _unsafe_globals(path)
        raise ValueError(
            f"{path} is not a tensor-only checkpoint: unpickling it would need "
            f"{', '.join(unsafe) if unsafe else 'objects other than tensors'}, which could run code, so it "
            f"is refused. semisup writes only tensors, dicts, lists and numbers; if you trust the file's "
            f"author, open it yourself with torch.load(weights_only=False) and save its tensors"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is not a readable torch checkpoint (truncated or corrupt?): "
                         f"{str(error).splitlines()[0]}") from None


def _unsafe_globals(path: Path) -> list[str]:
    """Name the globals a pickle would import beyond the tensor-only set (best effort)."""
    allowed = {f"{g.__module__}.{g.__qualname__}" for g in _NUMPY_ARRAY_GLOBALS}
    try:
        return [name for name in torch.serialization.get_unsafe_globals_in_checkpoint(path) if name not in allowed]
    except Exception:  # noqa: BLE001 - a message detail only; the refusal stands either way
        return []


def read_safetensors(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict[str, Tensor]:
    """Read a ``.safetensors`` file into ``{name: tensor}`` on ``device``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        The file is truncated or not safetensors; the message names it.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    try:
        return load_file(path, device=str(device))
    except SafetensorError as error:
        raise ValueError(f"{path} is not a readable safetensors file (truncated or corrupt?): {error}") from None


def rng_states() -> dict:
    """Return the torch, NumPy and Python RNG states in a form ``weights_only=True`` loads."""
    name, key, position, has_gauss, cached_gaussian = np.random.get_state()
    version, words, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),  # uint8 tensor
        "numpy": {"name": name, "key": torch.from_numpy(key.astype(np.int64)), "position": int(position),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)},
        "python": [version, list(words), gauss_next],
    }


def restore_rng_states(states: dict) -> None:
    """Set the three RNGs from :func:`rng_states` (or from a pre-safe-loading checkpoint).

    The tensors may sit on the GPU (a checkpoint loaded with ``map_location="cuda"``): the
    CPU generators read them from host memory.
    """
    torch.set_rng_state(states["torch"].cpu())
    numpy_state = states["numpy"]
    if isinstance(numpy_state, dict):
        numpy_state = (numpy_state["name"], numpy_state["key"].cpu().numpy().astype(np.uint32), numpy_state["position"],
                       numpy_state["has_gauss"], numpy_state["cached_gaussian"])
    np.random.set_state(numpy_state)
    version, words, gauss_next = states["python"]
    random.setstate((version, tuple(words), gauss_next))
