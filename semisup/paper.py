"""The paper's reported numbers, as tidy tables, to place beside ours in the notebooks.

Values are copied from Guinot et al., ISMIR 2024 (percent). Only the tables our
ablation notebooks reproduce are included. SampleCNN columns unless stated.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["table2", "table3", "table3_key", "beside_table3", "table3_pitch", "table4", "table6", "table7"]


def table2() -> pd.DataFrame:
    """Table 2: MTAT tagging vs p_s = b_s (SampleCNN), rows ``ps, bs, metric, value``."""
    rows = [(0, 88.8, 41.6), (0.05, 89.4, 42.5), (0.1, 89.5, 42.2), (0.25, 89.5, 42.5),
            (0.5, 89.7, 42.9), (0.75, 89.9, 43.3), (1, 90.3, 44.3)]
    return pd.DataFrame(
        [{"ps": ps, "bs": ps, "metric": m, "value": v} for ps, auroc, ap in rows for m, v in (("auroc", auroc), ("ap", ap))]
    )


# Table 3's target columns, keyed as the Table 5 probe settings are (semisup.probe.PROBE_CONFIGS:
# "<loader kind>[:<subset or label>]"), with the metric each column reports.
TABLE3_TARGETS = [
    ("mtat:top50", "auroc"), ("mtat:all", "auroc"), ("jamendo:top50tags", "auroc"),
    ("jamendo:genre", "auroc"), ("jamendo:moodtheme", "auroc"), ("jamendo:instrument", "auroc"),
    ("nsynth:pitch", "accuracy"), ("nsynth:family", "accuracy"), ("giantsteps", "weighted"),
    ("gtzan", "accuracy"), ("vocalset:technique", "accuracy"), ("vocalset:singer", "accuracy"),
    ("medleydb", "accuracy"),
]
# Rows: the labels used in pretraining ("self-supervised": FMA alone), 50k steps, b_s = 0.5.
_TABLE3_ROWS = {
    "self-supervised": [88.4, 86.2, 80.1, 83.3, 74.0, 71.6, 36.8, 51.7, 13.5, 65.5, 53.8, 71.1, 56.5],
    "mtat:top50": [89.3, 86.8, 80.0, 83.4, 73.8, 73.3, 34.5, 46.9, 11.3, 65.5, 53.2, 70.0, 67.3],
    "mtat:all": [89.1, 87.5, 80.3, 83.2, 74.1, 73.0, 34.0, 51.0, 14.9, 68.2, 52.4, 72.9, 72.8],
    "jamendo:top50tags": [88.6, 86.6, 81.5, 83.4, 74.6, 72.5, 33.8, 50.0, 14.7, 74.1, 52.1, 71.7, 62.0],
    "jamendo:genre": [88.6, 86.3, 80.5, 84.0, 74.6, 71.5, 33.4, 50.2, 14.6, 72.8, 52.0, 74.6, 66.3],
    "jamendo:moodtheme": [88.3, 86.6, 81.0, 83.0, 74.7, 72.3, 38.2, 47.7, 14.9, 71.3, 53.5, 71.4, 60.9],
    "jamendo:instrument": [88.4, 86.3, 80.8, 83.1, 74.0, 71.6, 37.2, 52.5, 14.9, 69.3, 54.5, 67.9, 63.0],
    "nsynth:pitch": [88.3, 86.3, 79.7, 82.6, 73.5, 72.0, 79.0, 48.6, 20.1, 65.5, 56.9, 75.6, 64.1],
    "nsynth:family": [88.6, 85.7, 79.6, 82.7, 73.3, 71.7, 26.6, 59.6, 16.0, 67.2, 57.3, 72.3, 66.3],
    "giantsteps": [87.7, 85.0, 79.0, 82.1, 73.0, 70.5, 50.8, 51.3, 22.3, 69.3, 54.1, 71.4, 61.2],
    "gtzan": [88.8, 86.8, 80.9, 83.9, 74.1, 71.5, 38.6, 46.9, 16.3, 74.0, 53.4, 71.7, 66.3],
    "vocalset:technique": [88.7, 86.7, 79.6, 82.5, 73.3, 71.0, 46.0, 53.5, 12.1, 63.5, 63.0, 77.8, 67.3],
    "vocalset:singer": [88.9, 86.2, 80.1, 82.6, 73.6, 72.8, 45.2, 52.4, 15.3, 67.2, 54.0, 87.1, 69.6],
    "medleydb": [88.6, 87.0, 80.2, 82.6, 73.6, 73.8, 32.0, 48.8, 13.2, 62.1, 58.6, 74.3, 62.0],
}


def table3() -> pd.DataFrame:
    """Table 3: cross-task probes, rows ``labels, target, metric, value``.

    ``labels`` is the pretraining support dataset (``"self-supervised"``: FMA alone); ``labels``
    and ``target`` use the Table 5 keys of :data:`semisup.probe.PROBE_CONFIGS`. EmoMusic's
    column is left out: the paper gives it for the self-supervised row only. Models trained
    with NSynth pitch or GiantSteps labels trained without pitch shifting (†).
    """
    return pd.DataFrame([{"labels": labels, "target": target, "metric": metric, "value": value}
                         for labels, values in _TABLE3_ROWS.items()
                         for (target, metric), value in zip(TABLE3_TARGETS, values, strict=True)])


def table3_key(spec: str) -> str | None:
    """Return the Table 3 row/column a dataset spec stands for (its Table 5 key), or None.

    Real datasets map to themselves (``nsynth:/d?label=pitch`` → ``nsynth:pitch``), embedded
    tasks to the dataset they stand in for (``embedded:…?task=key`` → ``giantsteps``).
    """
    import warnings

    from semisup.data.spec import load_spec
    from semisup.probe import probe_config_key

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing-audio warnings are not this function's news
        key = probe_config_key(load_spec(spec))
    return key if key in _TABLE3_ROWS else None


def beside_table3(scores: pd.DataFrame, labels: dict[str, str | None]) -> pd.DataFrame:
    """Our headline scores with Table 3's value for the same (labels, target) beside them.

    Parameters
    ----------
    scores : pandas.DataFrame
        Headline rows ``model, task, metric, value`` (``task`` a dataset spec, values in [0, 1]).
    labels : dict
        ``model`` name -> the spec of its pretraining labels (None: self-supervised).

    Returns
    -------
    pandas.DataFrame
        ``model, task, metric, ours (%), paper (%)`` with ``paper`` empty where Table 3 has
        no counterpart; ``task`` is the spec's slug and ``paper_target`` the Table 3 column.
    """
    from semisup.data.spec import DatasetSpec

    paper = table3().set_index(["labels", "target", "metric"])["value"]
    targets = {task: table3_key(task) for task in scores["task"].unique()}
    rows_of = {m: "self-supervised" if spec is None else table3_key(spec) for m, spec in labels.items()}
    out = []
    for row in scores.itertuples():
        key = (rows_of.get(row.model), targets[row.task], row.metric)
        out.append({"model": row.model, "task": DatasetSpec.parse(row.task).slug, "metric": row.metric,
                    "ours (%)": round(100 * row.value, 1), "paper (%)": paper.get(key),
                    "paper_target": targets[row.task]})
    return pd.DataFrame(out)


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
    """Table 7: number of views at a fixed total batch of 192 crops (MTAT AUROC / AP).

    The paper's header is shifted by one column group: the first pair of scores (88.4 / 40.1
    at M = 2) is the self-supervised model's (Table 3's SSL MTAT score) and the second
    (90.1 / 44.1) the supervised one (b_s = 1, C = 1: Table 4's 90.1 / 44.2), not a
    semi-supervised one.
    """
    rows = [(2, 96, 88.4, 40.1, 90.1, 44.1), (4, 48, 88.5, 40.6, 90.4, 44.8), (8, 24, 88.6, 40.3, 90.5, 44.9),
            (16, 12, 88.1, 39.5, 89.3, 41.9), (32, 6, 87.4, 38.4, 88.9, 40.7)]
    out = []
    for views, batch, ssl_auroc, ssl_ap, sl_auroc, sl_ap in rows:
        for setting, auroc, ap in (("self-supervised", ssl_auroc, ssl_ap), ("supervised", sl_auroc, sl_ap)):
            out += [{"n_views": views, "batch_size": batch, "setting": setting, "metric": "auroc", "value": auroc},
                    {"n_views": views, "batch_size": batch, "setting": setting, "metric": "ap", "value": ap}]
    return pd.DataFrame(out)
