"""What a notebook says about the data it ran on, computed from that data (no hard-coded prose).

Notebooks print these sentences and tables instead of writing numbers into markdown, so they
stay true for any parameters: tags or pitch labels, ``b_s = 0`` (no labeled clips) or
``b_s = 1``.

Conventions
-----------
- Sparsities (Appendix 9.3.1, Tables 6-7) and shares are shown in **percent**, one decimal.
- A quantity undefined for the data (``s_sl`` without labeled clips) reads ``NO_LABELED``,
  never NaN.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from semisup.loss import contrastive_sparsity, multi_hot

__all__ = ["NO_LABELED", "percent", "sparsity_percent", "describe_targets", "training_summary",
           "describe_pitch_maps"]

NO_LABELED = "n/a (no labeled clips)"


def percent(fraction: float | None, missing: str = NO_LABELED) -> str:
    """Format a fraction in [0, 1] as a percentage with one decimal (``missing`` for NaN/None)."""
    if fraction is None or not math.isfinite(fraction):
        return missing
    return f"{100 * fraction:.1f}"


def sparsity_percent(targets: dict[str, torch.Tensor], labeled) -> pd.DataFrame:
    """Sparsities ``s_sl`` and ``s_smsl`` (%) of each target matrix, one column per matrix.

    Parameters
    ----------
    targets : dict
        Name -> ``[M, M]`` target (:func:`semisup.loss.contrastive_target`).
    labeled : array-like of bool
        ``[B]`` per clip or ``[M]`` per view (:func:`semisup.loss.contrastive_sparsity`).
    """
    table = {name: {key: percent(value) for key, value in contrastive_sparsity(target, labeled).items()}
             for name, target in targets.items()}
    return pd.DataFrame(table).rename(index={"s_sl": "s_sl (%)", "s_smsl": "s_smsl (%)"})


def describe_targets(labels: torch.Tensor, labeled, criterion: int | str = 1) -> str:
    """Say what the target matrices of one batch (Sec. 3.3.1) show, from its labels.

    Parameters
    ----------
    labels : Tensor
        ``[B]`` class indices (``-1`` = unlabeled) or ``[B, C]`` multi-hot.
    labeled : array-like of bool
        ``[B]``: which clips are labeled.
    criterion : int or "weighted"
        The run's criterion, for the pair count.

    Returns
    -------
    str
        Sentences: how many labeled clips, labels per clip, how many pairs are supervised
        positives, and why a panel may equal another (one label per clip: ``C = 2`` keeps only
        the diagonal blocks, and the weighted target equals ``C = 1``).
    """
    y = multi_hot(torch.as_tensor(labels))  # [B, C]
    labeled = torch.as_tensor(labeled).bool()
    n_clips, n_labeled = len(labeled), int(labeled.sum())
    if n_labeled == 0:
        return (f"This batch of {n_clips} clips has no labeled clips (b_s = 0 or no labeled set): the only "
                f"positives are each clip's own views, the blocks on the diagonal, as in CLMR (Eq. 1).")
    per_clip = y[labeled].sum(dim=1)  # [B_l] labels per labeled clip
    shared = y[labeled] @ y[labeled].T  # [B_l, B_l]
    off_diagonal = ~torch.eye(n_labeled, dtype=torch.bool)
    pairs = int(((shared >= 1) & off_diagonal).sum()) // 2
    lines = [(f"{n_labeled} of the {n_clips} clips are labeled ({_count_range(per_clip)} label(s) per clip); "
              f"{pairs} pairs of them share a label.")]
    if isinstance(criterion, int) and criterion > 1:
        strict = int(((shared >= criterion) & off_diagonal).sum()) // 2
        lines.append(f"Under the run's criterion C = {criterion}, {strict} pairs are positives.")
    if pairs == 0:
        lines.append("No two labeled clips share a label, so only the self-supervised blocks on the diagonal "
                     "are positives.")
    if int(per_clip.max()) == 1:
        lines.append("With one label per clip, no pair can share 2 labels: the C = 2 panel keeps only the "
                     "diagonal blocks, and the weighted target (Dice of the label sets, 0 or 1 here) equals C = 1.")
    return " ".join(lines)


def _count_range(counts: torch.Tensor) -> str:
    low, high = int(counts.min()), int(counts.max())
    return str(low) if low == high else f"{low}-{high}"


def training_summary(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean loss, sparsities (%) and labeled share (%) over the last tenth of a run's ``metrics.csv``.

    ``s_sl`` reads :data:`NO_LABELED` when no step of that tenth had labeled clips (``b_s = 0``).
    """
    last = metrics.tail(max(1, len(metrics) // 10))  # [S, ...] the last tenth of the steps
    means = last[["loss", "s_sl", "s_smsl", "labeled_fraction"]].mean()
    rows = {"loss": f"{means['loss']:.3f}", "s_sl (%)": percent(means["s_sl"]),
            "s_smsl (%)": percent(means["s_smsl"]), "labeled share of the batch (%)": percent(means["labeled_fraction"])}
    return pd.Series(rows, name=f"mean of the last {len(last)} steps").to_frame()


def describe_pitch_maps(scores: dict[str, dict[str, float]], n_points: int) -> str:
    """Say what the t-SNE maps of Figure 4 can show, from :func:`semisup.embedding.neighbour_pitch`.

    Parameters
    ----------
    scores : dict
        Model name -> ``neighbour_pitch`` scores on the mapped points (same points for all).
    n_points : int
        Number of mapped notes.

    Returns
    -------
    str
        Per model: the share of nearest neighbours with the same pitch class and their mean
        distance in semitones, each against chance; which maps are ordered by pitch height
        (neighbours within a third of the random distance); then whether a reader can expect
        single-colour clusters (most neighbours share a pitch class) or only runs of hues.
    """
    lines = []
    for name, score in scores.items():
        lines.append(f"{name}: {100 * score['same_pitch_class']:.1f} % of each note's {score['k']} nearest "
                     f"neighbours share its pitch class (chance {100 * score['same_pitch_class_chance']:.1f} %); "
                     f"they lie {score['semitones']:.1f} semitones away on average (random pairs: "
                     f"{score['semitones_chance']:.1f}).")
    ordered = [name for name, score in scores.items() if score["semitones"] <= score["semitones_chance"] / 3]
    if ordered:
        lines.append(f"Neighbours lie within a third of the random distance in pitch height for: {', '.join(ordered)}; "
                     f"expect smooth colour gradients in the pitch-height row there.")
    best = max(scores.values(), key=lambda score: score["same_pitch_class"])
    if best["same_pitch_class"] >= 0.5:
        lines.append(f"Most neighbours share a pitch class, so single-colour clusters can form among these "
                     f"{n_points} notes.")
    else:
        lines.append(f"In no map do most neighbours share a pitch class, so do not expect single-colour clusters "
                     f"among these {n_points} notes: at best runs of neighbouring hues or heights along the arms. "
                     f"The difference between the models is in the numbers above more than in the picture.")
    return "\n".join(lines)
