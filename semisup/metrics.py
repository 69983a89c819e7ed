"""MIR metrics for frozen-encoder probes (Sec. 4.3), shaped like mir_eval: validate → score.

- multi-label tagging: macro ROC-AUC and macro average precision (scikit-learn);
- multi-class: top-1 accuracy;
- key: ``mir_eval.key.weighted_score`` averaged over tracks (Sec. 4.3, [45]);
- regression: R² (scikit-learn), averaged over targets and per target.

Conventions
-----------
- ``y_score`` are the probe outputs before any threshold: logits or probabilities
  (ranking metrics only need their order), ``[N, C]``.
- Multi-label ``y_true`` is 0/1 ``[N, C]``; multi-class ``y_true`` is int ``[N]``.
- Tags with no positive (or no negative) example in the evaluated split have no ROC-AUC;
  they are left out of the macro averages and counted in ``n_classes_scored``.
- Percent-valued scores are returned as fractions in [0, 1]; the notebooks print ×100.
"""

from __future__ import annotations

import mir_eval
import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score, r2_score, roc_auc_score

__all__ = ["validate", "multilabel_scores", "multiclass_scores", "key_scores", "regression_scores", "evaluate",
           "chance_level"]

TASK_TYPES = ("multilabel", "multiclass", "regression")


def validate(task_type: str, y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    """Check shapes and values of a prediction set and return them as arrays.

    Raises
    ------
    ValueError
        On an unknown task type, mismatched lengths, wrong ranks, NaN/inf scores or
        multi-label targets that are not 0/1.
    """
    if task_type not in TASK_TYPES:
        raise ValueError(f"task_type must be one of {TASK_TYPES}, got {task_type!r}")
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=np.float64)
    if len(y_true) != len(y_score) or len(y_true) == 0:
        raise ValueError(
            f"y_true has {len(y_true)} rows and y_score {len(y_score)}: they must match and "
            f"be non-empty"
        )
    if not np.isfinite(y_score).all():
        raise ValueError("y_score contains NaN or inf: did the probe diverge?")
    if task_type == "multilabel":
        if y_true.ndim != 2 or y_true.shape != y_score.shape:
            raise ValueError(
                f"multilabel needs y_true and y_score of the same [N, C] shape, got "
                f"{y_true.shape} and {y_score.shape}"
            )
        if not np.isin(y_true, (0, 1)).all():
            raise ValueError("multilabel y_true must be 0/1 (multi-hot)")
    elif task_type == "multiclass":
        if y_true.ndim != 1 or y_score.ndim != 2:
            raise ValueError(
                f"multiclass needs y_true [N] class indices and y_score [N, C], got "
                f"{y_true.shape} and {y_score.shape}"
            )
        if y_true.min() < 0 or y_true.max() >= y_score.shape[1]:
            raise ValueError(
                f"class indices must lie in [0, {y_score.shape[1] - 1}], got "
                f"[{y_true.min()}, {y_true.max()}]"
            )
    else:
        y_true = y_true.reshape(len(y_true), -1)
        y_score = y_score.reshape(len(y_score), -1)
        if y_true.shape != y_score.shape:
            raise ValueError(f"regression targets {y_true.shape} and predictions {y_score.shape} differ")
    return y_true, y_score


def multilabel_scores(y_true, y_score) -> dict[str, float]:
    """Macro ROC-AUC and macro AP over tags (Table 2's AUROC / AP).

    Parameters
    ----------
    y_true : array [N, C]
        0/1 tag matrix.
    y_score : array [N, C]
        Logits or probabilities.

    Returns
    -------
    dict
        ``auroc``, ``ap`` in [0, 1] and ``n_classes_scored`` (tags with both classes present).
    """
    y_true, y_score = validate("multilabel", y_true, y_score)
    positives = y_true.sum(axis=0)
    scored = (positives > 0) & (positives < len(y_true))
    if not scored.any():
        raise ValueError("no tag has both positive and negative examples: cannot score")
    t, s = y_true[:, scored], y_score[:, scored]
    return {
        "auroc": float(roc_auc_score(t, s, average="macro")),
        "ap": float(average_precision_score(t, s, average="macro")),
        "n_classes_scored": int(scored.sum()),
    }


def multiclass_scores(y_true, y_score) -> dict[str, float]:
    """Top-1 accuracy of ``argmax(y_score)`` (Table 3's Acc.)."""
    y_true, y_score = validate("multiclass", y_true, y_score)
    return {"accuracy": float(accuracy_score(y_true, y_score.argmax(axis=1)))}


def key_scores(y_true, y_score, classes: list[str]) -> dict[str, float]:
    """Accuracy and mean ``mir_eval.key.weighted_score`` for key estimation (GiantSteps).

    Parameters
    ----------
    y_true : array [N]
        Class indices into ``classes``.
    y_score : array [N, K]
        Scores per key class; the argmax is the estimate.
    classes : list of str
        Key names in mir_eval format, e.g. ``"Db major"``, ``"Bb minor"``.
    """
    y_true, y_score = validate("multiclass", y_true, y_score)
    for name in classes:
        mir_eval.key.validate_key(name)
    predicted = y_score.argmax(axis=1)
    weighted = [mir_eval.key.weighted_score(classes[t], classes[p]) for t, p in zip(y_true, predicted, strict=True)]
    return {"accuracy": float(accuracy_score(y_true, predicted)), "weighted": float(np.mean(weighted))}


def regression_scores(y_true, y_pred, target_names: list[str] | None = None) -> dict[str, float]:
    """R² averaged over targets, plus one ``r2_<name>`` per target (EmoMusic A/V)."""
    y_true, y_pred = validate("regression", y_true, y_pred)
    per_target = r2_score(y_true, y_pred, multioutput="raw_values")
    names = target_names or [str(i) for i in range(len(per_target))]
    return {"r2": float(per_target.mean()), **{f"r2_{n}": float(v) for n, v in zip(names, per_target, strict=True)}}


def evaluate(task_type: str, y_true, y_score, classes: list[str] | None = None, key: bool = False) -> dict[str, float]:
    """Score a probe's predictions with the metric of its task (Sec. 4.3).

    ``key=True`` adds the mir_eval weighted key score to a multi-class task.
    """
    if task_type == "multilabel":
        return multilabel_scores(y_true, y_score)
    if task_type == "multiclass":
        return key_scores(y_true, y_score, classes) if key else multiclass_scores(y_true, y_score)
    if task_type == "regression":
        return regression_scores(y_true, y_score, classes)
    validate(task_type, y_true, y_score)  # raises with the list of task types
    raise AssertionError("unreachable")


def chance_level(metric: str, y_true=None, classes: list[str] | None = None) -> float | None:
    """Return the expected score of a guess that ignores the audio (a fraction; None if undefined).

    - ``accuracy``: ``1 / C``, a uniformly random class;
    - ``auroc``: 0.5, scores unrelated to the tags;
    - ``weighted``: the mean mir_eval weighted key score of a uniformly random key among
      ``classes`` against the reference keys ``y_true`` (class indices ``[N]``): 2/24 for
      the 24 keys (exact 1 + fifth 0.5 + relative 0.3 + parallel 0.2, out of 24 guesses);
    - ``r2``: 0, predicting the mean of the targets.
    """
    if metric == "auroc":
        return 0.5
    if metric == "r2":
        return 0.0
    if metric == "accuracy" and classes:
        return 1.0 / len(classes)
    if metric == "weighted" and classes and y_true is not None and len(y_true):
        per_reference = {t: np.mean([mir_eval.key.weighted_score(classes[t], guess) for guess in classes])
                         for t in set(np.asarray(y_true).tolist())}
        return float(np.mean([per_reference[t] for t in np.asarray(y_true).tolist()]))
    return None
