"""Tests for semisup.loss: Eq. 1-3, the target matrix, sparsities and the gathered loss."""

import math
import os

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F

from semisup import paper
from semisup.loss import (
    SemiSupConLoss,
    contrastive_sparsity,
    contrastive_target,
    multi_hot,
    semisupcon_loss,
)


# --- plain, independent references (loops over anchors, written from the equations) ---
def reference_loss(z, positive_sets, tau):
    """Eq. 3 by loops: positive_sets[i] is the set P_A(i)."""
    z = F.normalize(z, dim=1)
    m = z.shape[0]
    total = 0.0
    for i in range(m):
        if not positive_sets[i]:
            continue
        denominator = sum(torch.exp(z[i] @ z[k] / tau) for k in range(m) if k != i)
        terms = [-torch.log(torch.exp(z[i] @ z[p] / tau) / denominator) for p in positive_sets[i]]
        total = total + sum(terms) / len(terms)
    return total / m


def nt_xent_reference(z, tau):
    """SimCLR's NT-Xent (Eq. 1) with views (2b, 2b+1) as positives."""
    return reference_loss(z, [{i ^ 1} for i in range(z.shape[0])], tau)


def supcon_reference(z, view_labels, tau):
    """SupCon L_out (Eq. 2) with base temperature = tau: positives share a class."""
    m = z.shape[0]
    sets = [{p for p in range(m) if p != i and view_labels[p] == view_labels[i]} for i in range(m)]
    return reference_loss(z, sets, tau)


# --- the target matrix ---
def test_target_hand_worked_criteria():
    labels = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 0]])
    clip_c1 = torch.tensor(
        [[1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 1]], dtype=torch.float
    )
    t1 = contrastive_target(labels, n_views=1, criterion=1)
    assert torch.equal(t1, clip_c1 - torch.eye(4))
    t2 = contrastive_target(labels, n_views=1, criterion=2)
    assert torch.equal(t2, torch.zeros(4, 4))  # no pair of clips shares 2 labels
    tw = contrastive_target(labels, n_views=1, criterion="weighted")
    expected = torch.tensor(
        [[0, 2 / 3, 0.5, 0], [2 / 3, 0, 0, 0], [0.5, 0, 0, 0], [0, 0, 0, 0]]
    )
    assert torch.allclose(tw, expected)


def test_target_views_are_consecutive_rows_and_capped():
    labels = torch.tensor([[1, 0], [1, 0], [0, 0]])
    t = contrastive_target(labels, n_views=2, criterion="weighted")
    assert t.shape == (6, 6)
    assert torch.all(t.diagonal() == 0)
    assert t[0, 1] == 1 and t[4, 5] == 1  # same clip, other view
    assert t[0, 2] == 1 and t[1, 3] == 1  # identical labels: alpha = 1
    assert t[0, 4] == 0 and t[4, 0] == 0  # unlabeled clip has only its own views
    assert t.max() <= 1  # same_clip + alpha is capped at 1


def test_integer_labels_equal_one_hot():
    ints = torch.tensor([2, -1, 0, 2])
    hot = torch.tensor([[0, 0, 1], [0, 0, 0], [1, 0, 0], [0, 0, 1]])
    assert torch.equal(multi_hot(ints), hot.float())
    assert torch.equal(contrastive_target(ints, 3), contrastive_target(hot, 3))


def test_target_by_loops_for_random_multilabel():
    g = torch.Generator().manual_seed(0)
    labels = (torch.rand(7, 5, generator=g) < 0.3).int()
    for c in (1, 2, 3):
        t = contrastive_target(labels, n_views=3, criterion=c)
        for i in range(21):
            for j in range(21):
                a, b = i // 3, j // 3
                shared = int((labels[a] & labels[b]).sum())
                want = 0.0 if i == j else float(a == b or shared >= c)
                assert t[i, j] == want


# --- the loss: reductions to Eq. 1 and Eq. 2 ---
def test_all_unlabeled_two_views_is_nt_xent():
    g = torch.Generator().manual_seed(1)
    z = torch.randn(12, 16, generator=g, dtype=torch.float64)
    target = contrastive_target(torch.full((6,), -1), n_views=2)
    ours = semisupcon_loss(z, target, temperature=0.1)
    assert torch.allclose(ours, nt_xent_reference(z, 0.1), atol=1e-10)


def test_all_labeled_is_supcon():
    g = torch.Generator().manual_seed(2)
    z = torch.randn(16, 8, generator=g, dtype=torch.float64)
    classes = torch.tensor([0, 1, 0, 2, 1, 1, 3, 0])
    target = contrastive_target(classes, n_views=2)
    view_labels = classes.repeat_interleave(2).tolist()
    ours = semisupcon_loss(z, target, temperature=0.07)
    assert torch.allclose(ours, supcon_reference(z, view_labels, 0.07), atol=1e-10)


def test_matches_pytorch_metric_learning_supcon():
    losses = pytest.importorskip("pytorch_metric_learning.losses")
    g = torch.Generator().manual_seed(3)
    z = torch.randn(20, 8, generator=g)
    classes = torch.tensor([0, 1, 0, -1, -1, 2, 1, -1, 3, 0])
    # PML sees one class per view: labeled clips share their class, unlabeled ones are alone.
    clip_ids = torch.where(classes >= 0, classes, 100 + torch.arange(10)).repeat_interleave(2)
    pml = losses.SupConLoss(temperature=0.1)(z, clip_ids)
    ours = semisupcon_loss(z, contrastive_target(classes, 2), 0.1)
    assert torch.allclose(ours, pml, atol=1e-5)


@pytest.mark.parametrize("n_views", [2, 4, 8])
def test_semi_supervised_many_views_matches_loops(n_views):
    g = torch.Generator().manual_seed(n_views)
    labels = torch.tensor([[1, 0, 1], [0, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]])
    z = torch.randn(5 * n_views, 6, generator=g, dtype=torch.float64)
    target = contrastive_target(labels, n_views)
    sets = [set(target[i].nonzero().flatten().tolist()) for i in range(5 * n_views)]
    # the loop sets are rebuilt from labels, independently of the matrix
    for i in range(5 * n_views):
        a = i // n_views
        want = {
            j for j in range(5 * n_views)
            if j != i and (j // n_views == a or int((labels[a] & labels[j // n_views]).sum()) >= 1)
        }
        assert sets[i] == want
    ours = semisupcon_loss(z, target, 0.1)
    assert torch.allclose(ours, reference_loss(z, sets, 0.1), atol=1e-10)


def test_weighted_target_weights_positives():
    g = torch.Generator().manual_seed(4)
    z = torch.randn(6, 4, generator=g, dtype=torch.float64)
    target = contrastive_target(torch.tensor([[1, 1], [1, 0], [0, 0]]), 2, "weighted")
    zn = F.normalize(z, dim=1)
    total = 0.0
    for i in range(6):
        log_den = torch.logsumexp(torch.stack([zn[i] @ zn[k] / 0.1 for k in range(6) if k != i]), 0)
        w = target[i].double()
        total += -sum(w[j] * (zn[i] @ zn[j] / 0.1 - log_den) for j in range(6) if j != i) / w.sum()
    assert torch.allclose(semisupcon_loss(z, target, 0.1), total / 6, atol=1e-10)


def test_anchor_without_positive_counts_zero_in_mean():
    z = torch.randn(3, 4, dtype=torch.float64)
    target = contrastive_target(torch.tensor([0, 0, -1]), n_views=1)  # clip 2 has no positive
    sets = [{1}, {0}, set()]
    assert torch.allclose(semisupcon_loss(z, target), reference_loss(z, sets, 0.1), atol=1e-10)


# --- invariances and numerics ---
def test_permuting_clips_leaves_loss_unchanged():
    g = torch.Generator().manual_seed(5)
    labels = (torch.rand(8, 4, generator=g) < 0.4).int()
    z = torch.randn(8, 2, 16, generator=g, dtype=torch.float64)  # [B, V, D]
    base = semisupcon_loss(z.reshape(16, 16), contrastive_target(labels, 2))
    perm = torch.randperm(8, generator=g)
    permuted = semisupcon_loss(z[perm].reshape(16, 16), contrastive_target(labels[perm], 2))
    assert torch.allclose(base, permuted, atol=1e-12)


def test_gradcheck_float64():
    g = torch.Generator().manual_seed(6)
    z = torch.randn(6, 3, generator=g, dtype=torch.float64, requires_grad=True)
    target = contrastive_target(torch.tensor([[1, 0], [1, 1], [0, 0]]), 2, "weighted").double()
    assert torch.autograd.gradcheck(lambda x: semisupcon_loss(x, target, 0.5), (z,))


def test_small_temperature_and_huge_norms_stay_finite():
    g = torch.Generator().manual_seed(7)
    z = (torch.randn(32, 8, generator=g) * 1e4).requires_grad_()
    loss = semisupcon_loss(z, contrastive_target(torch.randint(-1, 3, (16,), generator=g), 2), 0.01)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()


def test_half_precision_input_is_computed_in_float32():
    z = torch.randn(8, 4).bfloat16()
    loss = semisupcon_loss(z, contrastive_target(torch.arange(4), 2))
    assert loss.dtype == torch.float32 and torch.isfinite(loss)


# --- bad input ---
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: semisupcon_loss(torch.randn(4, 3), torch.zeros(6, 6)), "n_views"),
        (lambda: semisupcon_loss(torch.randn(4), torch.zeros(4, 4)), r"\[M, D\]"),
        (lambda: semisupcon_loss(torch.randn(4, 3), torch.zeros(4, 4), 0.0), "temperature"),
        (lambda: semisupcon_loss(torch.randn(4, 3), torch.zeros(4, 4), -1), "temperature"),
        (lambda: semisupcon_loss(torch.full((4, 3), math.nan), torch.zeros(4, 4)), "NaN"),
        (lambda: contrastive_target(torch.tensor([[0, 2]]), 2), "0 or 1"),
        (lambda: contrastive_target(torch.tensor([[0.5, 1.0]]), 2), "0 or 1"),
        (lambda: contrastive_target(torch.tensor([0, 1]), 2, criterion=0), "criterion"),
        (lambda: contrastive_target(torch.tensor([0, 1]), 2, criterion="dice"), "criterion"),
        (lambda: contrastive_target(torch.tensor([0, 1]), 0), "n_views"),
        (lambda: contrastive_target(torch.tensor([0, -3]), 2), ">= -1"),
        (lambda: contrastive_target(torch.tensor([0.0, 1.0]), 2), "integer"),
        (lambda: contrastive_target(torch.zeros(2, 2, 2), 2), "shape"),
        (lambda: SemiSupConLoss()(torch.randn(4, 6), torch.arange(4)), r"\[B, V, D\]"),
        (lambda: SemiSupConLoss()(torch.randn(4, 2, 6), torch.arange(3)), "clips"),
        (lambda: SemiSupConLoss(temperature=0), "temperature"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- sparsities (Appendix 9.3.1) ---
def test_sparsity_hand_worked():
    labels = torch.tensor([[1, 0], [1, 0], [0, 1], [0, 0]])
    labeled = labels.any(dim=1)
    target = contrastive_target(labels, n_views=2)  # M = 8: 64 entries, diagonal included
    # positives: 4 same-clip pairs x 2 directions + clips 0,1 across views (2x2x2 = 8)
    s = contrastive_sparsity(target, labeled)
    assert s["s_smsl"] == pytest.approx(1 - 16 / 64)
    # labeled block: 6 views, 36 entries; positives 3x2 same-clip + 8 across clips 0/1
    assert s["s_sl"] == pytest.approx(1 - 14 / 36)
    assert math.isnan(contrastive_sparsity(target, torch.zeros(4, dtype=bool))["s_sl"])


def test_sparsity_matches_table_6_first_row():
    # p_s = 1, b_s = 0.05, batch 96, 2 views, no shared labels: int(96 * 0.05) = 4 labeled
    # clips -> an 8 x 8 labeled block holding 8 positives (each view's other view).
    labels = torch.full((96,), -1)
    labels[:4] = torch.arange(4)
    s = contrastive_sparsity(contrastive_target(labels, n_views=2), labels >= 0)
    assert s["s_sl"] == pytest.approx(1 - 8 / 64)  # 87.5 %, Table 6 (off-diagonal: 85.7 %)
    assert s["s_smsl"] == pytest.approx(1 - 192 / 192**2)
    assert round(100 * s["s_sl"], 1) == paper.table6()["s_sl"].iloc[0]
    assert round(100 * s["s_smsl"], 1) == paper.table6()["s_smsl"].iloc[0]


def test_sparsity_weighted_target_and_diagonal():
    # Dice weight between clips {0, 1} and {0}: 2 * 1 / (2 + 1) = 2/3. With 2 views, M = 4:
    # 4 same-clip entries of 1, 8 cross-clip entries of 2/3 -> mean 28/3 / 16 = 7/12.
    labels = torch.tensor([[1, 1], [1, 0]])
    target = contrastive_target(labels, n_views=2, criterion="weighted")
    s = contrastive_sparsity(target, torch.tensor([True, True]))
    assert s["s_smsl"] == pytest.approx(5 / 12) and s["s_sl"] == pytest.approx(5 / 12)
    # a view is never its own positive, whatever the given diagonal; the input is not modified
    with_diagonal = target + torch.eye(4)
    assert contrastive_sparsity(with_diagonal, torch.tensor([True, True])) == s
    assert torch.equal(torch.diagonal(with_diagonal), torch.ones(4))
    # one labeled view (V = 1): its block is the diagonal alone, which holds no positive
    single = contrastive_sparsity(contrastive_target(torch.tensor([0, -1, -1]), n_views=1), torch.tensor([1, 0, 0]))
    assert single == {"s_sl": 1.0, "s_smsl": 1.0}


# --- the module and the distributed gather ---
def test_module_matches_functions():
    g = torch.Generator().manual_seed(8)
    z = torch.randn(5, 3, 7, generator=g)
    labels = torch.tensor([1, -1, 1, 0, -1])
    module = SemiSupConLoss(temperature=0.2, criterion=1)
    expected = semisupcon_loss(z.reshape(15, 7), contrastive_target(labels, 3), 0.2)
    assert torch.allclose(module(z, labels), expected)


def _ddp_worker(rank, world, init_file, out_dir):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    x, labels, weight = _ddp_problem()
    model = torch.nn.Linear(6, 5, bias=False)
    with torch.no_grad():
        model.weight.copy_(weight)
    ddp = DistributedDataParallel(model)
    shard = slice(rank * 4, (rank + 1) * 4)  # each rank holds 4 of the 8 clips
    loss = SemiSupConLoss(gather=True)(ddp(x[shard]), labels[shard])
    loss.backward()
    torch.save({"loss": loss.detach(), "grad": model.weight.grad}, os.path.join(out_dir, f"{rank}.pt"))
    dist.destroy_process_group()


def _ddp_problem():
    g = torch.Generator().manual_seed(9)
    x = torch.randn(8, 2, 6, generator=g)  # [B, V, D_in]
    # clips 0 and 5 share class 1 across the two shards, so gathering changes positives
    labels = torch.tensor([1, -1, 2, 0, -1, 1, 0, -1])
    return x, labels, torch.randn(5, 6, generator=g)


def test_ddp_gather_equals_single_process_union_batch(tmp_path):
    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    x, labels, weight = _ddp_problem()
    model = torch.nn.Linear(6, 5, bias=False)
    with torch.no_grad():
        model.weight.copy_(weight)
    loss = SemiSupConLoss()(model(x), labels)
    loss.backward()
    local_only = SemiSupConLoss()(model(x[:4]), labels[:4])
    for rank in range(2):
        result = torch.load(tmp_path / f"{rank}.pt")
        assert torch.allclose(result["loss"], loss, atol=1e-6)
        assert torch.allclose(result["grad"], model.weight.grad, atol=1e-6)
    assert not torch.allclose(local_only, loss, atol=1e-3)  # the gather mattered
