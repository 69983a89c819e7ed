"""Dataset specs: one string names a dataset everywhere (CLI flags, notebooks, sweeps, results).

    KIND:ROOT[?KEY=VALUE[&KEY=VALUE...]]

    mtat:/data/MTAT?subset=top50
    nsynth:/data/nsynth?label=pitch
    fma:/data/fma
    embedded:data/small?task=notes&label=pitch
    prepared:/data/fma_22k

``KIND`` is a loader kind of :mod:`semisup.data.datasets` (``mtat``, ``fma``, ``nsynth``,
``giantsteps``, ``gtzan``, ``jamendo``, ``vocalset``, ``medleydb``, ``emomusic``), ``embedded``
(a benchmark built by ``python -m semisup.data.embedded.build``) or ``prepared`` (a folder
written by ``python -m semisup.data.prepare``). The options are the loader's keyword
arguments; values are read as int, float, bool (``true``/``false``) or str, and a
comma-separated value gives a tuple where the loader's default is one (fma ``extensions``).

Conventions
-----------
- ``str(DatasetSpec.parse(text)) == text`` for every valid spec: options keep the order and
  spelling they were written with, so a spec is also a stable name (results' ``task``
  column, run names).
- A relative ``ROOT`` resolves against the repository root, as every data path of the
  project does (:func:`semisup.paths.repo_path`), so notebooks run from anywhere.
- Paths must not contain ``?`` and option values must not contain ``&``.
- An unknown kind or option, or a value of the wrong type, is a ``ValueError`` listing what
  is valid; nothing is loaded until :meth:`DatasetSpec.load`.
"""

from __future__ import annotations

import inspect
import os
import re
from dataclasses import dataclass
from pathlib import Path

from semisup.data.datasets import AudioDataset, load_dataset, loader_options
from semisup.paths import repo_path

__all__ = ["DatasetSpec", "parse_spec", "load_spec"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT = re.compile(r"^[+-]?\d+$")


def _value(text: str):
    """Read an option value: bool, int, float, else the string itself."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _INT.match(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def _typed(kind: str, key: str, text: str, parameter: inspect.Parameter):
    """Parse ``text`` for the loader option ``key``; check it against the default's type."""
    default = parameter.default
    if isinstance(default, (tuple, list)):
        return tuple(v.strip() for v in text.split(",") if v.strip())
    value = _value(text)
    # An optional number (``valid_fraction: float | None = None``) is checked as that number.
    number = {"float": float, "int": int}.get(str(parameter.annotation).split("|")[0].strip())
    if default is None and number is not None:
        default = number()
    if default is inspect.Parameter.empty or default is None or isinstance(default, str):
        return text if default is None or isinstance(default, str) else value
    expected = type(default)
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ValueError(f"dataset spec {kind}: option {key}={text!r} must be a {expected.__name__} "
                         f"(default {parameter.default!r})")
    return value


@dataclass(frozen=True)
class DatasetSpec:
    """A parsed ``KIND:ROOT[?KEY=VALUE&...]`` string.

    Attributes
    ----------
    kind : str
        Loader kind (``mtat``, ``embedded``, ``prepared`` ...).
    root : str
        The dataset folder as written (relative paths resolve against the repository root).
    options : tuple of (str, str)
        ``(key, value text)`` pairs in the order written.
    """

    kind: str
    root: str
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str | DatasetSpec) -> DatasetSpec:
        """Parse and validate a spec string (a ``DatasetSpec`` is returned as it is)."""
        if isinstance(text, DatasetSpec):
            return text
        if not isinstance(text, str):
            raise TypeError(f"a dataset spec must be a string like 'mtat:/data/MTAT?subset=top50', "
                            f"got {type(text).__name__}")
        kind, sep, rest = text.strip().partition(":")
        if not sep or not kind:
            raise ValueError(f"dataset spec {text!r} must look like KIND:ROOT[?KEY=VALUE&...], e.g. "
                             f"'mtat:/data/MTAT?subset=top50' or 'embedded:data/small?task=tags'")
        options = loader_options(kind)  # unknown kinds fail here, listing the valid ones
        root, _, query = rest.partition("?")
        if not root:
            raise ValueError(f"dataset spec {text!r} has no ROOT folder after '{kind}:'")
        pairs = []
        for item in query.split("&") if query else []:
            key, eq, value = item.partition("=")
            if not eq or not _NAME.match(key):
                raise ValueError(f"dataset spec {text!r}: option {item!r} must be KEY=VALUE")
            if key not in options:
                raise ValueError(f"dataset spec {text!r}: {kind} has no option {key!r}; its options "
                                 f"are {sorted(options)}")
            if any(key == k for k, _ in pairs):
                raise ValueError(f"dataset spec {text!r}: option {key!r} is given twice")
            _typed(kind, key, value, options[key])  # type errors surface at parse time
            pairs.append((key, value))
        return cls(kind, root, tuple(pairs))

    def __str__(self) -> str:
        """Return the spec string, ``KIND:ROOT[?KEY=VALUE&...]``."""
        query = "&".join(f"{k}={v}" for k, v in self.options)
        return f"{self.kind}:{self.root}" + (f"?{query}" if query else "")

    @property
    def path(self) -> Path:
        """``ROOT`` resolved (relative to the repository root when not absolute)."""
        return repo_path(self.root)

    def kwargs(self) -> dict:
        """Return the options as typed loader keyword arguments."""
        options = loader_options(self.kind)
        return {k: _typed(self.kind, k, v, options[k]) for k, v in self.options}

    def get(self, key: str, default=None):
        """Return the typed value of option ``key`` (``default`` when it is not given)."""
        return self.kwargs().get(key, default)

    def replace(self, **options) -> DatasetSpec:
        """Return a copy with options set (``None`` removes one); new keys go last."""
        pairs = dict(self.options)
        for key, value in options.items():
            if value is None:
                pairs.pop(key, None)
            else:
                pairs[key] = str(value).lower() if isinstance(value, bool) else str(value)
        return DatasetSpec.parse(str(DatasetSpec(self.kind, self.root, tuple(pairs.items()))))

    @property
    def slug(self) -> str:
        """A short file-name-safe name: the kind and the non-path option values.

        ``embedded:data/small?task=notes&label=pitch`` -> ``notes-pitch``;
        ``mtat:/data/MTAT?subset=top50`` -> ``mtat-top50``.
        """
        values = [v for k, v in self.options if not (k.endswith("_dir") or k.endswith("_csv"))]
        parts = values if self.kind == "embedded" else [self.kind, *values]
        if self.kind == "prepared":
            parts = [Path(self.root).name or "prepared"]
        return re.sub(r"[^A-Za-z0-9._]+", "-", "-".join(parts)).strip("-") or self.kind

    def load(self) -> AudioDataset:
        """Load the dataset (see :func:`semisup.data.datasets.load_dataset`)."""
        dataset = load_dataset(self.kind, self.path, **self.kwargs())
        dataset.info["spec"] = str(self)
        return dataset


def parse_spec(text: str | DatasetSpec) -> DatasetSpec:
    """Parse a spec string (see :class:`DatasetSpec`)."""
    return DatasetSpec.parse(text)


def load_spec(text: str | DatasetSpec | os.PathLike) -> AudioDataset:
    """Load the dataset a spec string names."""
    return DatasetSpec.parse(text).load()
