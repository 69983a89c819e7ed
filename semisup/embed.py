"""Embed your own audio with a trained (or random) encoder: whole-track embeddings (Sec. 5.2).

Usage::

    python -m semisup.embed runs/paper ~/Music --out music.npz
    python -m semisup.embed runs/paper "mtat:/data/MTAT?subset=top50" --out mtat.npz
    python -m semisup.embed --random-init small ~/Music --out random.npz
    python -m semisup.embed (RUN_DIR | --random-init ENCODER) INPUT --out FILE.npz
        [--workers N|auto] [--max-crops 64] [--seed S] [--device auto|cpu|cuda] [--no-progress]

Each file is cut into up to 64 non-overlapping crops from its start and the crops'
embeddings are averaged, exactly as the probes embed a test track
(:func:`semisup.extract.extract_embeddings`). Similarity search, clustering or a classifier
of your own then work on the ``[N, 512]`` array; the 5 nearest neighbours of the first
track by cosine similarity::

    import numpy as np
    f = np.load("music.npz")
    z = f["embeddings"] / np.linalg.norm(f["embeddings"], axis=1, keepdims=True)  # [N, 512]
    nearest = np.argsort(-(z @ z[0]))[1:6]  # most similar first, the track itself left out
    print(f["paths"][0], "->", f["paths"][nearest])

Conventions
-----------
- ``INPUT`` is a folder, searched recursively (hidden files and folders are passed over):
  files with an extension in :data:`AUDIO_EXTENSIONS` are read, other files (``.txt``,
  ``.jpg``, ``.json`` ...) ignored, and audio that libsndfile cannot decode
  (:data:`UNSUPPORTED_EXTENSIONS`: ``.m4a``, ``.aac``, ``.wma`` ...) is listed as skipped.
  ``INPUT`` may also be one audio file or a dataset spec (``mtat:/data/MTAT``, every split).
- The ``.npz`` (written atomically) holds ``paths`` (str ``[N]``, absolute; sorted for a
  folder, the dataset's order for a spec), ``embeddings`` (float32 ``[N, 512]``),
  ``skipped`` and ``skip_reasons`` (str ``[S]``: the files left out and why), ``run``,
  ``checkpoint`` (weights hash), ``sample_rate``, ``crop_samples``, ``max_crops``; for a
  spec also ``split`` (``[N]``) and, when it has labels, ``labels`` and ``classes``.
  Absolute paths are unambiguous; ``os.path.relpath`` gives paths relative to a folder.
- Unreadable or empty files are left out, each named in a warning and in the listing
  printed at the end; a missing file (a spec pointing at absent audio) is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from semisup import cli
from semisup.data.spec import DatasetSpec
from semisup.encoders import ENCODER_CONFIGS
from semisup.evaluate import frozen_encoder
from semisup.extract import extract_embeddings, weights_hash
from semisup.paths import atomic_write
from semisup.train import _parse_workers

__all__ = ["AUDIO_EXTENSIONS", "UNSUPPORTED_EXTENSIONS", "find_audio", "embed", "main"]

# What libsndfile (soundfile) decodes, by file extension.
AUDIO_EXTENSIONS = (".wav", ".wave", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".aif", ".aiff", ".aifc",
                    ".au", ".snd", ".caf", ".w64", ".rf64")
# Audio that libsndfile cannot decode: listed as skipped rather than ignored.
UNSUPPORTED_EXTENSIONS = (".m4a", ".aac", ".mp4", ".wma", ".ape", ".wv", ".mka", ".alac")


def find_audio(folder: str | os.PathLike) -> tuple[list[Path], dict[str, str]]:
    """Return the audio files under ``folder`` (sorted) and the unsupported ones with a reason.

    Hidden files and folders (names starting with ``.``, e.g. macOS ``._x.mp3``) are passed
    over; other extensions are ignored.
    """
    found, unsupported = [], {}
    for parent, folders, files in os.walk(folder):
        folders[:] = [d for d in folders if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            path = Path(os.path.abspath(os.path.join(parent, name)))
            suffix = path.suffix.lower()
            if suffix in AUDIO_EXTENSIONS:
                found.append(path)
            elif suffix in UNSUPPORTED_EXTENSIONS:
                unsupported[str(path)] = (f"{path}: {suffix} is not decoded by libsndfile; convert it, e.g. "
                                          f"ffmpeg -i '{path}' '{path.with_suffix('.flac')}'")
    return sorted(found), dict(sorted(unsupported.items()))


def embed(encoder, source: str | os.PathLike, out: str | os.PathLike, *, run_name: str, max_crops: int = 64,
          workers: int | str = "auto", progress: bool = True) -> dict:
    """Embed every audio file of ``source`` (a folder, a file or a dataset spec) into ``out``.

    Returns the arrays written (see the module docstring for the ``.npz`` layout).

    Raises
    ------
    ValueError
        ``source`` is neither a folder, a file nor a dataset spec; it holds no audio file;
        or none of its files could be read.
    """
    extra, unsupported = {}, {}
    if Path(source).is_dir():
        paths, unsupported = find_audio(source)
    elif Path(source).is_file():
        paths = [Path(source).resolve()]
    else:
        try:
            spec = DatasetSpec.parse(str(source))
        except ValueError as error:
            raise ValueError(f"INPUT {str(source)!r} is neither a folder, a file nor a dataset spec ({error})") from None
        dataset = spec.load()
        paths = dataset.paths
        extra = {"split": dataset.split}
        if dataset.labels is not None:
            extra |= {"labels": dataset.labels, "classes": np.array(dataset.classes, dtype=str)}
    if not paths:
        raise ValueError(f"no audio file under {source} (extensions {', '.join(AUDIO_EXTENSIONS)})")
    result = extract_embeddings(encoder, paths, sample_rate=encoder.sample_rate, crop_samples=encoder.crop_samples,
                                max_crops=max_crops, workers=workers, skip_bad=True, progress=progress)
    skipped = {**result.skipped, **unsupported}
    if len(result.kept) == 0:
        raise ValueError(f"none of the {len(paths)} audio files of {source} could be read, e.g. "
                         f"{next(iter(result.skipped.values()))}")
    arrays = {
        "paths": np.array([str(paths[i]) for i in result.kept], dtype=str),
        "embeddings": result.embeddings,
        "skipped": np.array(list(skipped), dtype=str),
        "skip_reasons": np.array(list(skipped.values()), dtype=str),
        "run": np.array(run_name), "checkpoint": np.array(weights_hash(encoder)),
        "sample_rate": np.array(encoder.sample_rate), "crop_samples": np.array(encoder.crop_samples),
        "max_crops": np.array(max_crops),
        **{name: value[result.kept] if name != "classes" else value for name, value in extra.items()},
    }

    def save(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object, so numpy does not append ".npz" to the name
            np.savez(f, **arrays)

    atomic_write(out, save)
    return arrays


def main(argv: list[str] | None = None) -> dict:
    """CLI: embed INPUT, write ``--out``, list what was skipped; return the arrays written."""
    parser = cli.ArgumentParser(prog="python -m semisup.embed", description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", metavar="[RUN_DIR] INPUT",
                        help="a run directory of semisup.train or a folder of semisup.export (unless "
                             "--random-init), then a folder, an audio file or a dataset spec")
    parser.add_argument("--random-init", choices=sorted(ENCODER_CONFIGS),
                        help="embed with a randomly initialised encoder (weights from --seed)")
    parser.add_argument("--out", required=True, help="the .npz file to write")
    parser.add_argument("--workers", type=_parse_workers, default="auto",
                        help="DataLoader processes decoding audio (0: in this process; default auto)")
    parser.add_argument("--max-crops", type=int, default=64, help="crops per track (default 64, as the probes)")
    parser.add_argument("--seed", type=int, default=123, help="seed of the random initialisation")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:1 ...")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    expected = 1 if args.random_init else 2
    if len(args.inputs) != expected:
        parser.error("give RUN_DIR INPUT, or --random-init ENCODER INPUT")
    run_dir = None if args.random_init else args.inputs[0]
    encoder, run_name, _ = frozen_encoder(run_dir, args.random_init, args.seed, args.device)
    arrays = embed(encoder, args.inputs[-1], args.out, run_name=run_name, max_crops=args.max_crops,
                   workers=args.workers, progress=not args.no_progress)
    print(f"{len(arrays['paths'])} files embedded by {run_name} into {args.out} "
          f"(embeddings {arrays['embeddings'].shape})")
    if len(arrays["skipped"]):
        print(f"{len(arrays['skipped'])} files skipped:")
        for reason in arrays["skip_reasons"]:
            print(f"  {reason}")
    return arrays


if __name__ == "__main__":
    cli.run(main, "python -m semisup.embed")
