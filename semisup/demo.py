"""The `make demo` entry point: what runs end to end today.

For now: the SemiSupCon loss on a synthetic semi-supervised batch, with the sparsity of its
contrastive matrix (Appendix 9.3.1) for SSL, semi-supervised and supervised batches.
"""

import torch

from semisup.loss import contrastive_sparsity, contrastive_target, semisupcon_loss


def main(seed: int = 123) -> None:
    """Print the loss and sparsities for b_s in {0, 0.5, 1} on a random batch."""
    g = torch.Generator().manual_seed(seed)
    b, v, d, c = 96, 2, 128, 50
    tags = (torch.rand(b, c, generator=g) < 0.06).float()  # sparse MTAT-like tags
    z = torch.randn(b * v, d, generator=g)
    print(f"synthetic batch: B={b} clips x {v} views, D={d}, C={c} tags, tau=0.1")
    print(f"{'b_s':>5} {'criterion':>9} {'loss':>8} {'s_sl':>7} {'s_smsl':>7}")
    for b_s in (0.0, 0.5, 1.0):
        labeled = torch.arange(b) < int(b * b_s)
        labels = tags * labeled[:, None]  # unlabeled clips: all-zero rows
        for criterion in (1, 2, "weighted"):
            target = contrastive_target(labels, v, criterion)
            s = contrastive_sparsity(target, labeled)
            loss = semisupcon_loss(z, target, 0.1).item()
            print(f"{b_s:5.2f} {criterion!s:>9} {loss:8.4f} {s['s_sl']:7.3f} {s['s_smsl']:7.3f}")


if __name__ == "__main__":
    main()
