import json
import os
import shutil

import pandas as pd
import papermill
import pytest

from semisup.sweep import aggregate, execute, expand_grid, load_grid


def test_expand_grid_names_and_params():
    spec = load_grid({
        "sweep": "s", "notebooks": ["a.ipynb"], "base": {"steps": 5},
        "grid": {"ps": [0.1, 0.5], "criterion": [1, "weighted"]}, "seeds": [0, 1],
    })
    runs = expand_grid(spec)
    assert len(runs) == 8
    name, params = runs[-1]
    assert name == "ps=0.5_criterion=weighted_seed=1"
    assert params == {"steps": 5, "ps": 0.5, "criterion": "weighted", "seed": 1}


@pytest.mark.parametrize(("spec", "message"), [
    ({"notebooks": ["a"]}, "sweep"),
    ({"sweep": "s"}, "notebooks"),
    ({"sweep": "s", "notebooks": ["a"], "grid": {"ps": 0.1}}, "non-empty list"),
    ({"sweep": "s", "notebooks": ["a"], "gird": {}}, "unknown keys"),
])
def test_bad_grid(spec, message):
    with pytest.raises(ValueError, match=message):
        load_grid(spec)


def test_aggregate_joins_params_and_results(tmp_path):
    for ps in (0.1, 0.5):
        run = tmp_path / "sweep" / f"ps={ps}_seed=0"
        run.mkdir(parents=True)
        (run / "params.json").write_text(json.dumps({"parameters": {"ps": ps, "seed": 0, "run_dir": str(run)}}))
        pd.DataFrame([{"checkpoint": "x", "task": "tags", "metric": "auroc", "value": ps}]).to_csv(run / "probe_results.csv", index=False)
    table = aggregate(tmp_path / "sweep")
    assert sorted(table["ps"]) == [0.1, 0.5]
    assert (table["value"] == table["ps"]).all()
    assert (tmp_path / "sweep" / "results.csv").exists()
    with pytest.raises(FileNotFoundError, match="run the sweep"):
        aggregate(tmp_path / "empty")


def test_aggregate_refuses_runs_probed_with_another_protocol(tmp_path):
    for ps, protocol in ((0.1, None), (0.5, "crops")):  # a finished run from before the protocol column
        run = tmp_path / "sweep" / f"ps={ps}_seed=0"
        run.mkdir(parents=True)
        (run / "params.json").write_text(json.dumps({"parameters": {"ps": ps, "seed": 0, "run_dir": str(run)}}))
        row = {"checkpoint": "x", "task": "tags", "metric": "auroc", "value": ps}
        pd.DataFrame([row if protocol is None else {**row, "protocol": protocol}]).to_csv(
            run / "probe_results.csv", index=False)
    with pytest.raises(ValueError, match=r"mixes probe protocols \['averaged', 'crops'\].*ps=0.1_seed=0"):
        aggregate(tmp_path / "sweep")
    assert not (tmp_path / "sweep" / "results.csv").exists()


def test_tied_parameters_share_an_axis():
    spec = load_grid({"sweep": "s", "notebooks": ["a"], "grid": {"ps,bs": [[0.1, 0.1], [1.0, 1.0]]}, "seeds": [3]})
    assert [name for name, _ in expand_grid(spec)] == ["ps=0.1_bs=0.1_seed=3", "ps=1.0_bs=1.0_seed=3"]
    with pytest.raises(ValueError, match="tied grid entry"):
        load_grid({"sweep": "s", "notebooks": ["a"], "grid": {"ps,bs": [0.1]}})


def test_shipped_grid_files_are_valid():
    from semisup.paths import repo_path

    files = sorted(repo_path("notebooks/sweeps").glob("*.yaml"))
    assert {f.stem for f in files} >= {"ps_bs", "ps_only", "bs_only", "criterion", "views"}
    for f in files:
        assert expand_grid(load_grid(f))


def test_grids_may_vary_dataset_specs_and_runs_are_named_by_slug():
    spec = load_grid({"sweep": "s", "notebooks": ["a"], "seeds": [0],
                      "grid": {"labeled": ["mtat:/data/MTAT?subset=top50", "embedded:data/small?task=notes&label=pitch"]}})
    runs = expand_grid(spec)
    assert [name for name, _ in runs] == ["labeled=mtat-top50_seed=0", "labeled=notes-pitch_seed=0"]
    assert runs[0][1]["labeled"] == "mtat:/data/MTAT?subset=top50"


def test_notebook_parameters_sees_spec_parameters_that_papermill_misses(tmp_path):
    from semisup.sweep import execute, notebook_parameters

    declared = notebook_parameters("notebooks/02_pretrain.ipynb")
    assert {"labeled", "unlabeled", "ps", "bs", "steps", "run_dir"} <= declared
    assert {"tasks", "run_dir", "seed"} <= notebook_parameters("notebooks/03_probe.ipynb")
    with pytest.raises(ValueError, match=r"has no parameter\(s\) \['labeled_task'\].*'labeled'"):
        execute("notebooks/02_pretrain.ipynb", tmp_path / "out.ipynb", {"labeled_task": "tags"})


def test_execute_runs_kernels_with_sleeping_omp_threads_unless_told(monkeypatch, tmp_path):
    seen = []

    def _record(notebook, output, **options):
        seen.append(os.environ.get("OMP_WAIT_POLICY"))
        shutil.copy(notebook, output)

    monkeypatch.setattr(papermill, "execute_notebook", _record)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    execute("notebooks/03_probe.ipynb", tmp_path / "out.ipynb", {})
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    execute("notebooks/03_probe.ipynb", tmp_path / "out.ipynb", {})
    assert seen == ["PASSIVE", "ACTIVE"]


def test_papermill_false_warnings_on_spec_parameters_are_filtered(caplog):
    # papermill's own parameter parser warns on every line with two "=" (#864), from its
    # translators logger; under execute() those warnings go, a truly unknown parameter still warns
    import logging

    from semisup.paths import repo_path
    from semisup.sweep import _quiet_papermill, notebook_parameters

    nb = str(repo_path("notebooks/07_cross_task.ipynb"))  # its list defaults hold specs
    with caplog.at_level("WARNING", logger="papermill"):
        papermill.inspect_notebook(nb)
    assert any("Unable to parse line" in r.getMessage() for r in caplog.records)  # the bug is still there
    caplog.clear()
    with caplog.at_level("WARNING", logger="papermill"), _quiet_papermill(notebook_parameters(nb)):
        papermill.inspect_notebook(nb)
        for name in ("labeled", "nonsense"):  # as papermill.execute_notebook logs them
            logging.getLogger("papermill").warning(f"Passed unknown parameter: {name}")
    assert [r.getMessage() for r in caplog.records] == ["Passed unknown parameter: nonsense"]


def test_finished_runs_are_reused_only_with_the_same_parameters(monkeypatch, tmp_path):
    import semisup.sweep as sweep

    executed = []
    monkeypatch.setattr(sweep, "execute", lambda notebook, output, parameters, progress: executed.append(parameters))
    grid = {"sweep": "s", "notebooks": ["notebooks/02_pretrain.ipynb"], "base": {"steps": 5, "labeled": "embedded:d?task=tags"},
            "grid": {"ps,bs": [[0.5, 0.5]]}, "seeds": [1]}
    folders = sweep.run_sweep(grid, root=tmp_path, progress=False)
    assert len(executed) == 1 and executed[0]["steps"] == 5 and (folders[0] / "done.json").exists()
    assert sweep.run_sweep(grid, root=tmp_path, progress=False) == folders and len(executed) == 1  # reused
    grid["base"]["steps"] = 8
    with pytest.raises(ValueError, match=r"ps=0.5_bs=0.5_seed=1 is a finished run with other parameters \(steps: 5 -> 8\)"):
        sweep.run_sweep(grid, root=tmp_path, progress=False)
    assert len(executed) == 1
