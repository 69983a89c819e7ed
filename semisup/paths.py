"""Resolve user paths against the repository root, so notebooks run from anywhere.

Papermill executes a notebook with the caller's working directory (the repository root
for ``papermill notebooks/02_pretrain.ipynb out.ipynb``, ``notebooks/`` inside JupyterLab).
Relative paths in parameter cells (``data_dir = "data/small"``) are therefore resolved
against the repository root, found by walking up from the working directory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["repo_root", "repo_path", "cache_root", "atomic_write"]


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """Find the nearest ancestor of ``start`` (default: cwd) holding semisup's pyproject.toml.

    Falls back to the parent of the installed ``semisup`` package (editable installs).
    """
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.exists() and 'name = "semisup"' in pyproject.read_text():
            return folder
    return Path(__file__).resolve().parent.parent


def repo_path(path: str | os.PathLike) -> Path:
    """Return ``path`` itself if absolute, else ``repo_root() / path``."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else repo_root() / path


def cache_root() -> Path:
    """Return the project's cache folder.

    ``$SEMISUP_CACHE_DIR``, else ``$XDG_CACHE_HOME/semisup`` (default ``~/.cache/semisup``).
    """
    base = os.environ.get("SEMISUP_CACHE_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "semisup"


def atomic_write(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Write ``path`` through ``write(tmp_path)``, then rename: readers never see a partial file.

    The temporary file sits beside ``path`` (same filesystem, so the rename is atomic) and is
    removed if ``write`` raises. The file gets the permissions a plain ``open(path, "w")``
    would give (0666 minus the umask), not ``mkstemp``'s private 0600, so shared data folders
    stay readable by others.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
