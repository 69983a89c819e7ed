"""Embedded benchmark built by ``python -m semisup.data.embedded.build``."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from semisup.data.datasets.base import (
    AudioDataset,
    DatasetError,
    canonical_split,
    encode_classes,
    existing_mask,
    multi_hot,
    need_file,
    read_table,
    register,
    root_dir,
)

LAYOUT = (
    "<root>/meta.json and <root>/<task>/manifest.csv (columns path, split, "
    "duration_s, <label field>) with audio at <root>/<task>/<path>; build it with "
    "`python -m semisup.data.embedded.build --size small --out data/small`"
)


@register("embedded", LAYOUT)
def load(root, task: str | None = None, label: str | None = None,
         missing: str = "error") -> AudioDataset:
    """Embedded benchmark built by ``semisup.data.embedded.build`` (meta.json + manifest.csv per task).

    ``label`` picks a label field of the task (default: the task's ``default_label``); a task
    without label fields (``unlabeled``) gives an unlabeled dataset.
    """
    kind = "embedded"
    root = root_dir(root, kind)
    meta_path = need_file(root / "meta.json", kind, "meta.json")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as error:
        raise DatasetError(f"{kind}: {meta_path} is not valid JSON: {error}") from error
    tasks = meta.get("tasks") if isinstance(meta, dict) else None
    if not isinstance(tasks, dict) or not tasks:
        raise DatasetError(f"{kind}: {meta_path} has no 'tasks' mapping; expected "
                           f'{{"tasks": {{"<task>": {{"labels": ..., "default_label": ...}}}}}}')
    if task not in tasks:
        raise ValueError(f"{kind}: task={task!r} is not in {meta_path}; available: {sorted(tasks)}")
    spec = tasks[task]
    fields = spec.get("labels") or {}
    label = spec.get("default_label") if label is None else label
    if label is not None and label not in fields:
        raise ValueError(f"{kind}: task {task!r} has no label field {label!r}; available: "
                         f"{sorted(fields)}")
    manifest = need_file(root / task / "manifest.csv", kind, f"manifest of task {task!r}")
    required = ["path", "split", "duration_s"] + ([label] if label else [])
    table = read_table(manifest, kind, required)
    paths = [root / task / PurePosixPath(p) for p in table["path"]]
    split = [canonical_split(s, str(manifest)) for s in table["split"]]
    labels, task_type, classes = None, "unlabeled", []
    if label is not None:
        spec_field = fields[label]
        task_type, classes = spec_field.get("type"), list(spec_field.get("classes") or [])
        if task_type not in ("multiclass", "multilabel") or not classes:
            raise DatasetError(f"{kind}: {meta_path} tasks.{task}.labels.{label} needs 'type' "
                               f"multiclass|multilabel and a non-empty 'classes' list")
        values = table[label].tolist()
        if task_type == "multiclass":
            labels = encode_classes(values, classes, kind, f"{manifest} column {label!r}")
        else:
            tag_lists = [[t for t in v.split("|") if t] for v in values]
            labels = multi_hot(tag_lists, classes, kind, f"{manifest} column {label!r}")
    keep = existing_mask(paths, kind, missing, str(manifest))
    dataset = AudioDataset(
        name=f"embedded-{task}" + (f"-{label}" if label else ""), root=root, paths=paths,
        split=split, labels=labels, task_type=task_type, classes=classes,
        info={"kind": kind, "task": task, "label": label, "sample_rate": meta.get("sample_rate")},
    )
    return dataset if keep.all() else dataset.select(keep)
