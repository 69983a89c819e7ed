"""The paper's reported numbers, as tidy tables, to place beside ours in the notebooks.

Values are copied from Guinot et al., ISMIR 2024 (percent). Only the tables our
ablation notebooks reproduce are included. SampleCNN columns unless stated.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["table2", "table3_pitch", "table4", "table6", "table7"]


def table2() -> pd.DataFrame:
    """Table 2: MTAT tagging vs p_s = b_s (SampleCNN), rows ``ps, bs, metric, value``."""
    rows = [(0, 88.8, 41.6), (0.05, 89.4, 42.5), (0.1, 89.5, 42.2), (0.25, 89.5, 42.5),
            (0.5, 89.7, 42.9), (0.75, 89.9, 43.3), (1, 90.3, 44.3)]
    return pd.DataFrame(
        [{"ps": ps, "bs": ps, "metric": m, "value": v} for ps, auroc, ap in rows for m, v in (("auroc", auroc), ("ap", ap))]
    )


def table3_pitch() -> pd.DataFrame:
    """Table 3 excerpt: SSL (FMA) vs NSynth-pitch semi-supervised, probed on pitch and MTAT."""
    return pd.DataFrame([
        {"model": "SSL", "task": "pitch accuracy", "value": 36.8},
        {"model": "SSL", "task": "tags auroc", "value": 88.4},
        {"model": "semi-sup pitch", "task": "pitch accuracy", "value": 79.0},
        {"model": "semi-sup pitch", "task": "tags auroc", "value": 88.3},
    ])


def table4() -> pd.DataFrame:
    """Table 4: positive-mining criterion, supervised (b_s = 1) and semi-supervised."""
    rows = [("1", 90.1, 44.2, 89.3, 41.3), ("2", 90.1, 43.9, 89.0, 41.6), ("4", 89.3, 42.8, 89.0, 41.3),
            ("6", 88.9, 42.3, 89.0, 41.5), ("weighted", 90.6, 45.3, 88.9, 41.6)]
    out = []
    for criterion, s_auroc, s_ap, m_auroc, m_ap in rows:
        for setting, auroc, ap in (("supervised", s_auroc, s_ap), ("semi-supervised", m_auroc, m_ap)):
            out += [{"criterion": criterion, "setting": setting, "metric": "auroc", "value": auroc},
                    {"criterion": criterion, "setting": setting, "metric": "ap", "value": ap}]
    return pd.DataFrame(out)


def table6() -> pd.DataFrame:
    """Table 6: individual variation of p_s and b_s (sparsities and MTAT scores)."""
    rows = [(1, 0.05, 87.5, 99.5, 88.4, 40.6), (1, 0.1, 77.1, 99.3, 88.4, 40.2), (1, 0.25, 61.5, 97.2, 88.2, 40.4),
            (1, 0.5, 74.7, 93.4, 89.0, 41.4), (1, 0.75, 77.3, 87.1, 89.3, 42.0),
            (0.05, 0.5, 69.7, 92.2, 88.4, 40.4), (0.1, 0.5, 73.3, 93.1, 88.2, 40.2), (0.25, 0.5, 74.4, 93.3, 89.0, 41.0),
            (0.5, 0.5, 65.5, 91.2, 88.4, 40.6), (0.75, 0.5, 77.1, 94.0, 88.6, 40.9)]
    return pd.DataFrame(rows, columns=["ps", "bs", "s_sl", "s_smsl", "auroc", "ap"])


def table7() -> pd.DataFrame:
    """Table 7: number of views at a fixed total batch of 192 crops (MTAT AUROC / AP)."""
    rows = [(2, 96, 88.4, 40.1, 90.1, 44.1), (4, 48, 88.5, 40.6, 90.4, 44.8), (8, 24, 88.6, 40.3, 90.5, 44.9),
            (16, 12, 88.1, 39.5, 89.3, 41.9), (32, 6, 87.4, 38.4, 88.9, 40.7)]
    out = []
    for views, batch, sl_auroc, sl_ap, semi_auroc, semi_ap in rows:
        for setting, auroc, ap in (("supervised", sl_auroc, sl_ap), ("semi-supervised", semi_auroc, semi_ap)):
            out += [{"n_views": views, "batch_size": batch, "setting": setting, "metric": "auroc", "value": auroc},
                    {"n_views": views, "batch_size": batch, "setting": setting, "metric": "ap", "value": ap}]
    return pd.DataFrame(out)
