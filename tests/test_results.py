import pandas as pd
import pytest

from semisup.results import DEFAULT_SPECS, summarise

PITCH, TAGS = DEFAULT_SPECS["pitch"], DEFAULT_SPECS["tags"]


def _write_tables(tmp_path, tags_by_ps):
    rows = []
    for seed, (ssl_pitch, semi_pitch) in enumerate([(0.30, 0.50), (0.32, 0.52)]):
        rows += [
            {"model": "self-supervised", "task": PITCH, "metric": "accuracy", "value": ssl_pitch, "seed": seed},
            {"model": "notes-pitch", "task": PITCH, "metric": "accuracy", "value": semi_pitch, "seed": seed},
            {"model": "self-supervised", "task": TAGS, "metric": "auroc", "value": 0.80, "seed": seed},
            {"model": "notes-pitch", "task": TAGS, "metric": "auroc", "value": 0.795, "seed": seed},
        ]
    pd.DataFrame(rows).to_csv(tmp_path / "cross_task.csv", index=False)
    sweep = tmp_path / "sweeps" / "ps_bs"
    sweep.mkdir(parents=True)
    pd.DataFrame([{"task": TAGS, "metric": "auroc", "ps": ps, "value": value, "seed": 0}
                  for ps, value in tags_by_ps.items()]).to_csv(sweep / "results.csv", index=False)
    robust = [{"model": m, "seed": 0, "metric": "auroc", "severity": s, "value": v}
              for m, clean, worst in (("self-supervised", 0.8, 0.75), ("end-to-end", 0.8, 0.6))
              for s, v in ((0.0, clean), (4.0, worst))]
    pd.DataFrame(robust).to_csv(tmp_path / "robustness.csv", index=False)
    pd.DataFrame({"model": ["self-supervised", "semi-supervised (pitch)"], "knn_pitch_class_accuracy": [0.2, 0.4],
                  "seed": 0, "k": 5}).to_csv(tmp_path / "knn_seed0.csv", index=False)


def test_summary_computes_the_four_effects(tmp_path):
    _write_tables(tmp_path, {ps: 0.7 + ps / 10 for ps in (0, 0.1, 0.5, 1)})
    lines = summarise(tmp_path, DEFAULT_SPECS).splitlines()
    assert "31.0 ± 1.4 → 51.0 ± 1.4 (gain +20.0)" in lines[2] and lines[2].endswith("yes (≥ +10) |")
    assert "(change -0.5)" in lines[3] and "yes (within 1)" in lines[3]
    assert lines[4].endswith("| yes (rises at every step) |")
    assert "end-to-end: 20.0" in lines[5] and "self-supervised: 5.0" in lines[5] and lines[5].endswith("| yes |")
    assert "20.0 → 40.0" in lines[6]


def test_summary_names_the_step_where_e2_falls(tmp_path):
    _write_tables(tmp_path, {0: 0.775, 0.1: 0.772, 0.5: 0.779, 1: 0.789})
    e2 = summarise(tmp_path, DEFAULT_SPECS).splitlines()[4]
    assert e2.endswith("| no: 0 → 1 +1.4, but falls at 0 → 0.1 (-0.3) |")


def test_table3_holds_the_papers_cross_task_grid():
    from semisup.paper import table3

    table = table3().set_index(["labels", "target"])["value"]
    assert table["self-supervised", "nsynth:pitch"] == 36.8 and table["nsynth:pitch", "nsynth:pitch"] == 79.0
    assert table["giantsteps", "giantsteps"] == 22.3 and table["vocalset:singer", "vocalset:singer"] == 87.1
    assert len(table) == 14 * 13


def test_summary_refuses_tables_of_mixed_protocols_and_names_the_one_used(tmp_path):
    _write_tables(tmp_path, {ps: 0.7 + ps / 10 for ps in (0, 0.1, 0.5, 1)})
    assert summarise(tmp_path, DEFAULT_SPECS).endswith("probe protocol: `averaged` (semisup.probe)")  # old tables
    cross = pd.read_csv(tmp_path / "cross_task.csv").assign(protocol="crops")
    cross.to_csv(tmp_path / "cross_task.csv", index=False)  # re-probed; the sweep and 05 not
    with pytest.raises(ValueError, match=r"mixes probe protocols \['averaged', 'crops'\]"):
        summarise(tmp_path, DEFAULT_SPECS)
    for name in ("sweeps/ps_bs/results.csv", "robustness.csv"):
        pd.read_csv(tmp_path / name).assign(protocol="crops").to_csv(tmp_path / name, index=False)
    assert summarise(tmp_path, DEFAULT_SPECS).endswith("probe protocol: `crops` (semisup.probe)")
