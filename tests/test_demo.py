import pandas as pd
import pytest

from semisup.demo import (
    KNN_METRIC,
    MODELS,
    add_knn_rows,
    demo_grid,
    pitch_spec,
    pitch_summary,
    probe_table,
)
from semisup.demo import main as demo_main
from semisup.sweep import expand_grid, load_grid

TASK = pitch_spec("data/small")


def _run(model: str, seed: int) -> str:
    ps, bs, shift = MODELS[model]
    return f"ps={ps}_bs={bs}_pitch_shift={shift}_seed={seed}"


def _results(seeds=(123,), pitch_scores=(0.45,), ssl_scores=(0.20,)):
    rows = []
    for seed, pitch_score, ssl_score in zip(seeds, pitch_scores, ssl_scores, strict=True):
        for model, score in (("self-supervised", ssl_score), ("semi-supervised (pitch)", pitch_score)):
            ps, bs, shift = MODELS[model]
            common = {"run": _run(model, seed), "checkpoint": "c", "seed": seed, "ps": ps, "bs": bs,
                      "pitch_shift": shift, "sweep": "demo"}
            rows += [common | {"task": TASK, "metric": "accuracy", "value": score},
                     common | {"task": "embedded:data/small?task=tags", "metric": "auroc", "value": 0.77}]
    return pd.DataFrame(rows)


def _knn(ssl: float, pitch: float, seed: int = 123) -> pd.DataFrame:
    return pd.DataFrame({"model": list(MODELS), "knn_pitch_class_accuracy": [ssl, pitch], "seed": seed, "k": 5})


def test_grid_trains_table_3_pair_per_seed():
    grid = demo_grid(10, "data/small", seeds=[123, 1], batch_size=16, tasks=["tags", "pitch"])
    runs = expand_grid(load_grid(grid))
    assert [name for name, _ in runs] == [_run("self-supervised", 123), _run("self-supervised", 1),
                                          _run("semi-supervised (pitch)", 123), _run("semi-supervised (pitch)", 1)]
    ssl, pitch = runs[0][1], runs[2][1]
    assert (ssl["ps"], ssl["bs"], ssl["pitch_shift"]) == (0.0, 0.0, True)  # SSL keeps pitch shifting
    assert (pitch["ps"], pitch["bs"], pitch["pitch_shift"]) == (1.0, 0.75, False)  # Table 3's pitch model, b_s 0.75
    for key in ("steps", "batch_size", "labeled", "unlabeled", "tasks"):
        assert ssl[key] == pitch[key], key  # same training apart from the labels and pitch shifting
    assert ssl["tasks"] == [TASK, "embedded:data/small?task=tags"]  # pitch always, first
    table3 = expand_grid(load_grid(demo_grid(10, "data/small", seeds=[123], pitch_bs=0.5)))
    assert [name for name, _ in table3] == [_run("self-supervised", 123), "ps=1.0_bs=0.5_pitch_shift=False_seed=123"]
    with pytest.raises(ValueError, match=r"unknown demo task\(s\) \['chords'\]"):
        demo_grid(10, "data/small", [123], tasks=["chords"])


def test_grid_pitch_shift_is_what_the_loaded_pitch_labels_decide(tiny_data):
    from semisup.train import TrainConfig, resolve_pitch_shift

    for ps, bs, shift in MODELS.values():  # the grid spells the value that names its run folders
        auto = TrainConfig(labeled=pitch_spec(str(tiny_data)), ps=ps, bs=bs, encoder="small")
        assert resolve_pitch_shift(auto).pitch_shift is shift


def test_knn_rows_sit_beside_their_probe_rows_and_replace_old_ones():
    runs = {model: _run(model, 123) for model in MODELS}
    table = add_knn_rows(_results(), _knn(0.2, 0.5), runs, TASK)
    rows = table[table["metric"] == KNN_METRIC].set_index("run")
    assert list(rows["task"]) == [TASK, TASK]
    assert rows.loc[runs["semi-supervised (pitch)"], ["value", "bs", "seed"]].tolist() == [0.5, 0.75, 123]
    assert rows.loc[runs["self-supervised"], "bs"] == 0.0
    again = add_knn_rows(table, _knn(0.3, 0.6), runs, TASK)
    assert len(again) == len(table) and sorted(again[again["metric"] == KNN_METRIC]["value"]) == [0.3, 0.6]
    with pytest.raises(ValueError, match="no probe rows"):
        add_knn_rows(_results(), _knn(0.2, 0.5), {**runs, "self-supervised": "missing"}, TASK)


def test_pitch_summary_gives_ratios_beside_table_3_and_mean_sd_over_seeds():
    one = add_knn_rows(_results(), _knn(0.2, 0.5), {m: _run(m, 123) for m in MODELS}, TASK)
    summary = pitch_summary(one, TASK)
    assert summary.loc["pitch probe accuracy", "ratio"] == "2.25"
    assert summary.loc["5-NN pitch-class accuracy", "semi-supervised (pitch)"] == "50.0"
    assert summary.loc["pitch probe accuracy", "paper"] == "36.8 -> 79.0 (2.15x, Table 3)"

    three = _results(seeds=(1, 2, 3), pitch_scores=(0.4, 0.5, 0.6), ssl_scores=(0.2, 0.2, 0.2))
    summary = pitch_summary(three, TASK)
    assert summary.loc["pitch probe accuracy", "semi-supervised (pitch)"] == "50.0 ± 10.0"
    assert summary.loc["pitch probe accuracy", "ratio"] == "2.50 ± 0.50"
    assert summary.loc["pitch probe accuracy", "seeds"] == 3


def test_cli_rejects_an_unknown_task_before_doing_anything(capsys):
    with pytest.raises(SystemExit):
        demo_main(["--tasks", "chords"])
    assert "invalid choice: 'chords'" in capsys.readouterr().err


def test_probe_table_has_a_column_per_model_and_a_row_per_task():
    three = _results(seeds=(1, 2, 3), pitch_scores=(0.4, 0.5, 0.6), ssl_scores=(0.2, 0.2, 0.2))
    three = add_knn_rows(three, _knn(0.1, 0.3, seed=1), {m: _run(m, 1) for m in MODELS}, TASK)  # not a probe score
    table = probe_table(three)
    assert list(table.columns) == list(MODELS)
    assert table.loc[("notes-pitch", "accuracy"), "semi-supervised (pitch)"] == "50.0 ± 10.0"
    assert table.loc[("tags", "auroc"), "self-supervised"] == "77.0 ± 0.0"
    assert len(table) == 2


def test_demo_runs_end_to_end_on_tiny_data(tiny_data, tiny_demo):
    # the whole pipeline (sweep of 02 + 03, 06 per pair, results.csv, printed tables) in a few steps
    out, printed = tiny_demo
    pitch_run = out / _run("semi-supervised (pitch)", 123)
    results = pd.read_csv(out / "results.csv")
    knn = results[results["metric"] == KNN_METRIC]
    assert sorted(knn["bs"]) == [0.0, 0.75] and set(knn["task"]) == {pitch_spec(str(tiny_data))}
    assert knn["value"].between(0, 1).all()
    assert (pitch_run / "tsne_seed123.png").read_bytes().startswith(b"\x89PNG")
    assert (pitch_run / "06_tsne.ipynb").exists()
    assert "pitch probe accuracy" in printed and "5-NN pitch-class accuracy" in printed and "36.8 -> 79.0" in printed
