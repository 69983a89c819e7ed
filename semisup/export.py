"""Export a run's frozen encoder as a folder others load (safetensors, config.json, model card).

Usage::

    python -m semisup.export runs/paper exported/semisupcon-mtat
    python -m semisup.export RUN_DIR OUT_DIR [--projection-head] [--force]

The folder loads three ways, all giving the run's embeddings bit for bit::

    semisup.load_encoder("exported/semisupcon-mtat")                      # the bare encoder
    SemiSupConEncoder.from_pretrained("exported/semisupcon-mtat")         # huggingface_hub
    torch.hub.load("<clone of this repo>", "semisupcon", source="local",
                   path="exported/semisupcon-mtat")                        # hubconf.py

Conventions
-----------
- ``OUT_DIR`` holds ``model.safetensors`` (the encoder ``E``; the projection head ``g``
  only with ``--projection-head``: probes discard it, Sec. 4.3), ``config.json``
  (:class:`semisup.hub.SemiSupConEncoder`'s arguments: encoder architecture, sample rate,
  crop length, the run's training config with its dataset specs) and ``README.md``, a model
  card whose YAML front matter names the library, datasets, metrics and licence.
- The card lists the run's probe results when the run folder has ``probe_results.csv``
  (written by notebook 03 and the sweeps): each task's headline metric, mean over seeds.
- The folder is written beside ``OUT_DIR`` and renamed into place, so a failed export
  leaves nothing half-written; an existing ``OUT_DIR`` is replaced only with ``--force``.
- Only tensors are read from the run (:mod:`semisup.checkpoint`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from semisup import cli
from semisup.checkpoint import load_checkpoint
from semisup.data.spec import DatasetSpec
from semisup.encoders import ProjectionHead
from semisup.hub import SemiSupConEncoder, is_export
from semisup.train import CHECKPOINT, load_config, load_encoder

__all__ = ["DATA_LICENCES", "RESULTS", "export_run", "model_card", "main"]

#: Probe results a run folder may hold (notebook 03, sweeps).
RESULTS = "probe_results.csv"

#: The terms each dataset kind is distributed under, for the model card: weights trained on
#: data inherit questions about its licence. Short statements; each dataset's page is the
#: authority.
DATA_LICENCES = {
    "mtat": "MagnaTagATune: audio from Magnatune under its Creative Commons BY-NC-SA licence",
    "fma": "FMA: audio under each artist's licence (mostly Creative Commons), metadata CC BY 4.0",
    "jamendo": "MTG-Jamendo: audio under each track's Creative Commons licence (non-commercial research)",
    "nsynth": "NSynth: CC BY 4.0",
    "giantsteps": "GiantSteps key: annotations openly licensed; audio are Beatport previews under copyright",
    "gtzan": "GTZAN: no licence; copyrighted recordings collected for research",
    "medleydb": "MedleyDB: CC BY-NC-SA 4.0",
    "emomusic": "EmoMusic (1000 songs): audio from the Free Music Archive under Creative Commons licences",
    "vocalset": "VocalSet: CC BY 4.0",
    "embedded": ("embedded benchmark: rendered by semisup from the music21 corpus with a General MIDI "
                 "SoundFont (TimGM6mb, GPL-2, unless another was given)"),
}

CITATION = """@inproceedings{guinot2024semisupcon,
  title     = {Semi-supervised Contrastive Learning of Musical Representations},
  author    = {Guinot, Julien and Quinton, Elio and Fazekas, Gy{\\"o}rgy},
  booktitle = {Proc. of the 25th Int. Society for Music Information Retrieval Conf. (ISMIR)},
  address   = {San Francisco, United States},
  year      = {2024}
}"""


def _dataset_kinds(training: dict) -> list[str]:
    """Return the dataset kinds of a training config's specs (a prepared folder: the kind it was made from)."""
    kinds = []
    for name in ("labeled", "unlabeled"):
        spec_text = training.get(name) or ""
        if not spec_text:
            continue
        spec = DatasetSpec.parse(spec_text)
        if spec.kind == "prepared":
            from semisup.data.datasets.prepared import read_manifest

            try:
                source = read_manifest(spec.path).get("source", "")
            except (OSError, ValueError):  # the prepared folder is not on this machine
                source = ""
            kinds.append(DatasetSpec.parse(source).kind if source else "prepared")
        else:
            kinds.append(spec.kind)
    return list(dict.fromkeys(kinds))


def _results_table(results) -> str:
    """Markdown table of each task's headline metric (mean over seeds) from probe result rows."""
    from semisup.probe import headline

    if results is None or not len(results):
        return "No probe results were saved in the run folder."
    best = headline(results).groupby(["task", "metric"], sort=False)["value"].agg(["mean", "count"]).reset_index()
    lines = ["| task | metric | score | seeds |", "|---|---|---|---|"]
    lines += [f"| `{row.task}` | {row.metric} | {row.mean:.4f} | {row.count} |" for row in best.itertuples()]
    return "\n".join(lines)


def model_card(model: SemiSupConEncoder, results=None, run_name: str = ""):
    """Build the model card (``README.md``) of an exported encoder.

    Parameters
    ----------
    model : SemiSupConEncoder
        The exported encoder; its ``training_config`` says how it was trained.
    results : pandas.DataFrame, optional
        Probe result rows (``run, checkpoint, task, metric, value, seed``).
    run_name : str
        The run folder's name, for the record.

    Returns
    -------
    huggingface_hub.ModelCard
        YAML front matter (library, tags, datasets, metrics, licence) and the card's text.
    """
    from huggingface_hub import ModelCard, ModelCardData

    training = model.training_config or {}
    kinds = _dataset_kinds(training)
    metrics = []
    if results is not None and len(results):
        from semisup.probe import headline

        metrics = sorted(set(headline(results)["metric"]))
    data = ModelCardData(
        library_name="semisup", pipeline_tag="feature-extraction", license="other",
        tags=["audio", "music", "contrastive-learning", "semisupcon", f"encoder-{model.encoder.config.name}"],
        datasets=kinds or None, metrics=metrics or None,
    )
    seconds = model.crop_samples / model.sample_rate
    trained = (f"{training.get('steps')} steps of {training.get('batch_size')} clips × {training.get('n_views')} views, "
               f"objective `{training.get('objective')}`, b_s = {training.get('bs')}, p_s = {training.get('ps')}, "
               f"criterion C = {training.get('criterion')}, τ = {training.get('temperature')}, lr {training.get('lr')}, "
               f"seed {training.get('seed')}; labeled data `{training.get('labeled') or '-'}`, "
               f"unlabeled data `{training.get('unlabeled') or '-'}`" if training else "unknown (no training config)")
    licences = "\n".join(f"- {DATA_LICENCES.get(kind, kind + ': see the dataset’s own terms')}" for kind in kinds)
    body = f"""
# SemiSupCon encoder `{model.encoder.config.name}`{f" ({run_name})" if run_name else ""}

A frozen waveform encoder trained with semi-supervised contrastive learning (SemiSupCon,
Guinot, Quinton & Fazekas, ISMIR 2024) by the `semisup` package. It maps mono audio at
**{model.sample_rate} Hz** in crops of **{model.crop_samples} samples ({seconds:.2f} s)** to
**{model.embedding_dim}-d embeddings**; the projection head used in training is
{"kept as `model.projection`" if model.projection is not None else "dropped, as the probes use the encoder"}.
A track's embedding is the mean over its non-overlapping crops.

## Training

{trained}.

## Probe results

{_results_table(results)}

## Use

`PATH` is this folder (or its Hub id for `from_pretrained`), `CLONE` a clone of the `semisup`
repository (which holds `hubconf.py`).

```python
import torch
import semisup
from semisup.hub import SemiSupConEncoder

encoder = semisup.load_encoder("PATH")                   # the bare encoder, eval mode
model = SemiSupConEncoder.from_pretrained("PATH")        # huggingface_hub (a Hub id works too)
model = torch.hub.load("CLONE", "semisupcon", source="local", path="PATH")
embeddings = model(audio)                                # [B, {model.crop_samples}] -> [B, {model.embedding_dim}]
```

HEAR 2021 API: `semisup.hear.load_model("PATH")`, then `get_scene_embeddings(audio, model)` and
`get_timestamp_embeddings(audio, model)`.

## Data licences

The weights were trained on the data below; its terms may bind how they can be used (each
dataset's own page is the authority).

{licences or "- unknown"}

## Citation

```bibtex
{CITATION}
```
"""
    return ModelCard(f"---\n{data.to_yaml()}\n---\n{body}")


def export_run(run_dir: str | os.PathLike, out_dir: str | os.PathLike, *, projection_head: bool = False,
               force: bool = False) -> Path:
    """Write the frozen encoder of ``run_dir`` as an exported folder ``out_dir``; return it.

    Raises
    ------
    FileNotFoundError
        ``run_dir`` is not a run folder or has no checkpoint yet.
    ValueError
        ``out_dir`` exists (without ``force``); a projection head is asked of a supervised
        run; the checkpoint is not tensor-only.
    """
    import pandas as pd

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if is_export(run_dir):
        raise ValueError(f"{run_dir} is already an exported folder; export a run folder of semisup.train")
    if out_dir.exists() and not force and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ValueError(f"{out_dir} exists; choose a new OUT_DIR or pass --force to replace it")
    config = load_config(run_dir)
    encoder = load_encoder(run_dir)
    projection = None
    if projection_head:
        if config.objective != "contrastive":
            raise ValueError(f"{run_dir} is a {config.objective!r} run: it has no projection head to keep")
        state = load_checkpoint(run_dir / CHECKPOINT)["model"]
        projection = ProjectionHead(encoder.embedding_dim, encoder.embedding_dim)
        projection.load_state_dict({k.removeprefix("projection."): v for k, v in state.items()
                                    if k.startswith("projection.")})
    model = SemiSupConEncoder.from_encoder(encoder, projection, training=asdict(config))
    results_path = run_dir / RESULTS
    results = pd.read_csv(results_path) if results_path.is_file() else None
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        model.save_pretrained(staging, model_card_kwargs={"results": results, "run_name": run_dir.resolve().name})
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's folder is private; an export is for sharing
        if out_dir.exists():
            shutil.rmtree(out_dir) if out_dir.is_dir() else out_dir.unlink()
        os.replace(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return out_dir


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def main(argv: list[str] | None = None) -> Path:
    """CLI: export RUN_DIR into OUT_DIR and say how to load it."""
    parser = cli.ArgumentParser(prog="python -m semisup.export", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a run folder of semisup.train (with checkpoint.pt)")
    parser.add_argument("out_dir", help="the folder to write (model.safetensors, config.json, README.md)")
    parser.add_argument("--projection-head", action="store_true",
                        help="keep the projection head g as well (probes do not use it)")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")
    args = parser.parse_args(argv)
    out = export_run(args.run_dir, args.out_dir, projection_head=args.projection_head, force=args.force)
    print(f"exported {args.run_dir} -> {out} ({', '.join(sorted(p.name for p in out.iterdir()))}); "
          f"load it with semisup.load_encoder({str(out)!r})")
    return out


if __name__ == "__main__":
    cli.run(main, "python -m semisup.export")
