"""The SemiSupCon objective: Eq. 1-3 of Guinot et al., ISMIR 2024.

One target matrix says which pairs of views are positives; one loss turns the
pairwise cosine similarities and that target into Eq. 3.

Conventions
-----------
- A batch holds ``B`` clips with ``V`` views each (``V`` = ``n_views``); flattened, it has
  ``M = B * V`` rows and **all views of one clip are consecutive rows** (row = ``b * V + v``).
- Labels are per clip. Multi-hot ``[B, C]`` (bool or 0/1; an all-zero row means *unlabeled*)
  or integer classes ``[B]`` with ``-1`` meaning *unlabeled*.
- Projections ``z`` are raw: the loss L2-normalises them itself (cosine similarity, Sec. 3.1).
- Temperature ``tau = 0.1`` (Sec. 4.3).
- Anchors without any positive (possible only with ``V = 1`` and an unlabeled clip)
  contribute 0 to the sum but still count in the mean over the ``M`` anchors, as in the
  authors' implementation; with ``V >= 2`` every anchor has its own clip's other views.
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "contrastive_target",
    "semisupcon_loss",
    "SemiSupConLoss",
    "contrastive_sparsity",
    "multi_hot",
]


def multi_hot(labels: Tensor) -> Tensor:
    """Return per-clip labels as a float multi-hot matrix ``[B, C]``.

    Parameters
    ----------
    labels : Tensor
        Multi-hot ``[B, C]`` (bool, or numbers that are all 0 or 1; an all-zero row is an
        unlabeled clip) or integer class indices ``[B]`` with ``-1`` for unlabeled clips.

    Returns
    -------
    Tensor
        ``[B, C]`` float32 with entries in {0, 1}; unlabeled clips are all-zero rows.
    """
    if not isinstance(labels, Tensor):
        raise TypeError(f"labels must be a torch.Tensor, got {type(labels).__name__}")
    if labels.dim() == 1:
        if labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise ValueError(
                f"1-D labels must be integer class indices (-1 = unlabeled), got dtype "
                f"{labels.dtype}; pass multi-hot labels as a 2-D [B, C] tensor"
            )
        if labels.numel() and int(labels.min()) < -1:
            raise ValueError(
                f"integer labels must be >= -1 (-1 = unlabeled), got {int(labels.min())}"
            )
        n_classes = int(labels.max()) + 1 if labels.numel() else 0
        one_hot = torch.zeros(labels.shape[0], max(n_classes, 1), device=labels.device)
        labeled = labels >= 0
        one_hot[labeled.nonzero(as_tuple=True)[0], labels[labeled]] = 1.0
        return one_hot
    if labels.dim() != 2:
        raise ValueError(
            f"labels must be [B] class indices or [B, C] multi-hot, got shape "
            f"{tuple(labels.shape)}"
        )
    if labels.dtype == torch.bool:
        return labels.float()
    if not ((labels == 0) | (labels == 1)).all():
        bad = labels[(labels != 0) & (labels != 1)].flatten()[0].item()
        raise ValueError(
            f"multi-hot labels must be 0 or 1, found {bad!r}; for class indices pass a 1-D "
            f"integer tensor"
        )
    return labels.float()


def _check_criterion(criterion) -> None:
    if criterion == "weighted":
        return
    if isinstance(criterion, bool) or not isinstance(criterion, int):
        raise ValueError(
            f"criterion must be an int C >= 1 or 'weighted', got {criterion!r}"
        )
    if criterion < 1:
        raise ValueError(f"criterion C must be >= 1 shared label, got {criterion}")


def _check_n_views(n_views) -> None:
    if isinstance(n_views, bool) or not isinstance(n_views, int) or n_views < 1:
        raise ValueError(f"n_views must be an int >= 1, got {n_views!r}")


def contrastive_target(labels: Tensor, n_views: int, criterion: int | str = 1) -> Tensor:
    """Build the target contrastive matrix **M** of Sec. 3.3 / 3.3.1.

    Two views are positives when they come from the same clip (self-supervised positives,
    ``P_u``) or when their clips are labeled and share labels (supervised positives,
    ``P_s``). The diagonal (a view with itself) is zero.

    Parameters
    ----------
    labels : Tensor
        Per-clip labels: multi-hot ``[B, C]`` or class indices ``[B]`` (``-1`` = unlabeled).
    n_views : int
        Views per clip ``V >= 1``; row ``b * V + v`` is view ``v`` of clip ``b``.
    criterion : int or "weighted"
        ``C >= 1``: clips are positives when they share at least ``C`` labels (Sec. 3.3.1).
        ``"weighted"``: the Dice weight ``alpha_ij = 2 |Ci & Cj| / (|Ci| + |Cj|)`` and the
        target is ``min(same_clip + alpha, 1)``, a float in [0, 1].

    Returns
    -------
    Tensor
        ``[M, M]`` float32 target, ``M = B * V``, on the device of ``labels``.
    """
    _check_n_views(n_views)
    _check_criterion(criterion)
    y = multi_hot(labels)  # [B, C]
    shared = y @ y.T  # [B, B] number of shared labels, no [B, B, C] intermediate
    same_clip = torch.eye(y.shape[0], device=y.device)
    if criterion == "weighted":
        n_labels = y.sum(dim=1)  # [B]
        denominator = n_labels[:, None] + n_labels[None, :]
        alpha = torch.where(denominator > 0, 2 * shared / denominator.clamp_min(1), 0.0)
        clip_target = (same_clip + alpha).clamp_max(1.0)
    else:
        clip_target = torch.maximum(same_clip, (shared >= criterion).float())
    # Expand clips to views: every view of clip a meets every view of clip b.
    target = clip_target.repeat_interleave(n_views, dim=0).repeat_interleave(n_views, dim=1)
    return target.fill_diagonal_(0.0)  # [M, M]


def semisupcon_loss(z: Tensor, target: Tensor, temperature: float = 0.1) -> Tensor:
    """Semi-supervised contrastive loss, Eq. 3 (reduces to Eq. 1 and Eq. 2).

    For anchor ``i`` with positives weighted by ``P_ij`` (the target):

        l_i = - sum_{j != i} P_ij log( exp(s_ij) / sum_{k != i} exp(s_ik) ) / sum_j P_ij

    with ``s_ij = cos(z_i, z_j) / tau``. Positives stay in the denominator (SupCon's
    ``L_out``). The log-softmax is exact (no epsilon inside the log), so it is stable for
    small ``tau`` and large norms. The loss is the mean of ``l_i`` over all ``M`` anchors;
    an anchor with no positive contributes 0 and still counts in the mean.

    Parameters
    ----------
    z : Tensor
        ``[M, D]`` raw projections (normalised here), views of a clip on consecutive rows.
    target : Tensor
        ``[M, M]`` weights in [0, 1] from :func:`contrastive_target`; the diagonal is ignored.
    temperature : float
        ``tau > 0``.

    Returns
    -------
    Tensor
        Scalar loss.
    """
    if not isinstance(z, Tensor) or z.dim() != 2:
        shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
        raise ValueError(f"z must be a [M, D] tensor of projections, got {shape}")
    m = z.shape[0]
    if not isinstance(target, Tensor) or tuple(target.shape) != (m, m):
        shape = tuple(target.shape) if isinstance(target, Tensor) else type(target).__name__
        raise ValueError(
            f"target must be [M, M] = [{m}, {m}] to match z {tuple(z.shape)}, got {shape}; "
            f"did you build it with the same n_views?"
        )
    if not (isinstance(temperature, (int, float)) and temperature > 0 and math.isfinite(temperature)):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    if not torch.isfinite(z).all():
        raise ValueError("z contains NaN or inf: check the encoder output / learning rate")

    if z.dtype != torch.float64:
        z = z.float()  # AMP-safe: half-precision logits at 1/tau would lose the tail
    z = F.normalize(z, dim=1)
    logits = z @ z.T / temperature  # [M, M], |s_ij| <= 1 / tau
    self_mask = torch.eye(m, dtype=torch.bool, device=z.device)
    log_prob = logits - torch.logsumexp(logits.masked_fill(self_mask, -math.inf), dim=1, keepdim=True)
    weights = target.to(log_prob.dtype).masked_fill(self_mask, 0.0)  # [M, M]
    n_positives = weights.sum(dim=1)  # [M]
    per_anchor = -(weights * log_prob.masked_fill(self_mask, 0.0)).sum(dim=1)
    per_anchor = torch.where(n_positives > 0, per_anchor / n_positives.clamp_min(1e-12), 0.0)
    return per_anchor.mean()


def contrastive_sparsity(target: Tensor, labeled: Tensor) -> dict[str, float]:
    """Contrastive-matrix sparsities ``s_sl`` and ``s_smsl`` (Appendix 9.3.1, Tables 6-7).

    The paper writes them as positive counts but reports percentages near 100 that fall as
    ``b_s`` grows: one minus the mean of the target matrix, as the authors' code logs them.
    The diagonal is zeroed and counted, so a view is never its own positive:

    - ``s_smsl = 1 - mean(P)`` over the whole ``[M, M]`` matrix;
    - ``s_sl = 1 - mean(P)`` over the labeled-by-labeled block (``nan`` without labeled views).

    For a binary target this is the share of non-positive entries, diagonal included. Worked
    case (Table 6, first row): batch 96, ``b_s = 0.05``, 2 views, no shared labels: 4 labeled
    clips give an ``8 x 8`` block with 8 positives, ``s_sl = 1 - 8/64 = 87.5 %``, and
    ``s_smsl = 1 - 192/192**2 = 99.5 %``.

    Parameters
    ----------
    target : Tensor
        ``[M, M]`` target from :func:`contrastive_target` (binary, or weights in [0, 1]).
    labeled : Tensor
        Bool mask per clip ``[B]`` (expanded to its views) or per view ``[M]``.

    Returns
    -------
    dict
        ``{"s_sl": float, "s_smsl": float}``, fractions in [0, 1].
    """
    m = target.shape[0]
    if target.dim() != 2 or target.shape[1] != m or m < 2:
        raise ValueError(f"target must be a square [M, M] matrix with M >= 2, got {tuple(target.shape)}")
    labeled = torch.as_tensor(labeled, device=target.device).bool().flatten()
    if labeled.numel() == 0 or m % labeled.numel():
        raise ValueError(f"labeled must have B or M = {m} entries, got {labeled.numel()}")
    labeled = labeled.repeat_interleave(m // labeled.numel())  # [M]
    positives = target.to(torch.float64, copy=True).fill_diagonal_(0.0)  # [M, M]
    s_smsl = 1.0 - positives.mean().item()
    block = positives[labeled][:, labeled]  # [M_l, M_l]
    s_sl = 1.0 - block.mean().item() if block.numel() else math.nan
    return {"s_sl": s_sl, "s_smsl": s_smsl}


class SemiSupConLoss(nn.Module):
    """Eq. 3 as a module: ``loss = SemiSupConLoss()(z, labels)`` with ``z`` ``[B, V, D]``.

    With ``gather=True`` and an initialised ``torch.distributed`` process group, projections
    and labels from every rank are gathered so that negatives come from the global batch
    (the authors' implementation uses per-device negatives only). Every rank then returns
    the loss of the global batch; gradients flowing back through the gather are summed over
    ranks, so DistributedDataParallel's gradient averaging yields exactly the gradient of
    the global loss. All ranks must hold the same number of clips.

    Parameters
    ----------
    temperature : float
        ``tau`` (Sec. 4.3 uses 0.1).
    criterion : int or "weighted"
        Positive-mining criterion of Sec. 3.3.1, see :func:`contrastive_target`.
    gather : bool
        Gather across ranks when ``torch.distributed`` is initialised; ignored otherwise.
    """

    def __init__(self, temperature: float = 0.1, criterion: int | str = 1, gather: bool = True):
        super().__init__()
        _check_criterion(criterion)
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        self.temperature = float(temperature)
        self.criterion = criterion
        self.gather = gather

    def extra_repr(self) -> str:
        """Show the loss settings when the module is printed."""
        return f"temperature={self.temperature}, criterion={self.criterion!r}, gather={self.gather}"

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        """Return the scalar loss for projections ``z`` ``[B, V, D]`` and per-clip labels."""
        if not isinstance(z, Tensor) or z.dim() != 3:
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ValueError(f"z must be [B, V, D] (clips, views, dim), got {shape}")
        if labels.shape[0] != z.shape[0]:
            raise ValueError(
                f"labels have {labels.shape[0]} clips but z has {z.shape[0]} (z is [B, V, D])"
            )
        labels = multi_hot(labels)  # [B, C]: a common form so ranks can be gathered
        if self.gather and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            z, labels = _gather_batch(z, labels)
        b, v, d = z.shape
        target = contrastive_target(labels, v, self.criterion)  # [B*V, B*V]
        return semisupcon_loss(z.reshape(b * v, d), target, self.temperature)  # z: [M, D]


def _gather_batch(z: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """All-gather ``z`` ``[B, V, D]`` (with gradients) and labels ``[B, C]`` from all ranks.

    Label matrices are zero-padded to the widest ``C``: class indices are global, so a rank
    whose batch lacks the highest class simply built a narrower one-hot matrix.
    """
    shape = torch.tensor([z.shape[0], labels.shape[1]], device=z.device)
    shapes = [torch.empty_like(shape) for _ in range(dist.get_world_size())]
    dist.all_gather(shapes, shape)
    if any(int(s[0]) != z.shape[0] for s in shapes):
        raise ValueError(
            "gather=True needs the same number of clips B on every rank, got "
            f"{[int(s[0]) for s in shapes]}; use a fixed per-rank batch size (drop_last)"
        )
    n_columns = max(int(s[1]) for s in shapes)
    labels = F.pad(labels, (0, n_columns - labels.shape[1]))  # [B, C_max]
    z_all = torch.cat(dist_fn.all_gather(z), dim=0)  # [W*B, V, D], autograd-aware
    labels_all = [torch.empty_like(labels) for _ in range(dist.get_world_size())]
    dist.all_gather(labels_all, labels)
    return z_all, torch.cat(labels_all, dim=0)  # [W*B, V, D], [W*B, C_max]
