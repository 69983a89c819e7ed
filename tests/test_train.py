import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict

import pandas as pd
import pytest
import torch
import torch.multiprocessing as mp

from semisup.paths import atomic_write
from semisup.train import (
    TrainConfig,
    _build_model,
    _step_generator,
    build_parser,
    config_from_args,
    load_config,
    load_encoder,
    loader_workers,
    train,
)

FAST = {"batch_size": 4, "encoder": "small", "progress": False, "num_workers": 0}


def specs(tiny_data, labeled="task=notes&label=pitch"):
    return {"labeled": f"embedded:{tiny_data}?{labeled}", "unlabeled": f"embedded:{tiny_data}?task=unlabeled"}


def config(tiny_data, run_dir, **overrides):
    return TrainConfig(**{**specs(tiny_data), "run_dir": str(run_dir), **FAST, **overrides})


def test_ssl_and_semi_supervised_runs_log_and_reload(tiny_data, tmp_path):
    for name, ps, bs in (("ssl", 0.0, 0.0), ("semi", 1.0, 0.5)):
        run = train(config(tiny_data, tmp_path / name, ps=ps, bs=bs, steps=3, checkpoint_every=2))
        metrics = pd.read_csv(run / "metrics.csv")
        assert list(metrics["step"]) == [0, 1, 2]
        assert metrics["loss"].between(0, 20).all()
        assert (metrics["labeled_fraction"] == bs).all()
        saved = json.loads((run / "config.json").read_text())
        assert (saved["ps"], saved["bs"]) == (ps, bs)
        encoder = load_encoder(run)
        assert not encoder.training
        assert encoder(torch.zeros(1, encoder.crop_samples)).shape == (1, 512)
    ssl = pd.read_csv(tmp_path / "ssl" / "metrics.csv")
    assert ssl["s_sl"].isna().all()  # no labeled block in SSL batches
    from semisup.probe import probe_run

    tasks = [f"embedded:{tiny_data}?task=notes&label=pitch", f"embedded:{tiny_data}?task=tags"]
    scores = probe_run(tmp_path / "semi", tasks, max_epochs=2, progress=False)
    assert set(scores["task"]) == set(tasks)
    assert scores[scores["metric"].isin(["accuracy", "auroc"])]["value"].between(0, 1).all()


def test_supervised_baseline_trains(tiny_data, tmp_path):
    run = train(config(tiny_data, tmp_path / "e2e", objective="supervised", steps=2, severity=0))
    assert len(pd.read_csv(run / "metrics.csv")) == 2
    assert load_encoder(run).embedding_dim == 512


def test_bad_config_names_the_field(tiny_data, tmp_path):
    with pytest.raises(ValueError, match="ps=1.5"):
        config(tiny_data, tmp_path, ps=1.5)
    with pytest.raises(ValueError, match="criterion"):
        config(tiny_data, tmp_path, criterion=0)
    with pytest.raises(ValueError, match="severity"):
        config(tiny_data, tmp_path, severity=7)
    train(config(tiny_data, tmp_path / "r", steps=1))
    with pytest.raises(ValueError, match="different config"):
        train(config(tiny_data, tmp_path / "r", steps=2, ps=0.5))


def test_cli_parses_every_field():
    cfg = config_from_args(["--ps", "0.1", "--criterion", "weighted", "--amp", "bf16", "--steps", "7",
                            "--num-workers", "3", "--labeled", "mtat:/data/MTAT?subset=top50", "--unlabeled", ""])
    assert (cfg.ps, cfg.criterion, cfg.amp, cfg.steps, cfg.num_workers) == (0.1, "weighted", "bf16", 7, 3)
    assert (cfg.labeled, cfg.unlabeled) == ("mtat:/data/MTAT?subset=top50", "")
    assert config_from_args(["--criterion", "2"]).criterion == 2
    assert config_from_args([]) == TrainConfig()
    assert set(vars(build_parser().parse_args([]))) == set()  # flags left out keep preset/default values


def test_presets_are_the_paper_settings_and_explicit_flags_win():
    paper = config_from_args(["--preset", "paper"])
    assert (paper.encoder, paper.sample_rate, paper.crop_samples, paper.n_views, paper.batch_size) == (
        "samplecnn", 22050, 59535, 2, 96)
    assert (paper.lr, paper.temperature, paper.steps, paper.seed, paper.preset) == (1e-4, 0.1, 200_000, 123, "paper")
    # fp32 as the authors (precision: null); bf16 autocast only when asked for.
    assert paper.amp == "fp32" and config_from_args(["--preset", "ablation"]).amp == "fp32"
    assert config_from_args(["--preset", "paper", "--amp", "bf16"]).amp == "bf16"
    with pytest.raises(ValueError, match="amp='true'.*fp32.*bf16"):
        config_from_args(["--amp", "true"])
    ablation = config_from_args(["--preset", "ablation", "--lr", "3e-4", "--batch-size", "48"])
    assert (ablation.steps, ablation.lr, ablation.batch_size, ablation.encoder) == (50_000, 3e-4, 48, "samplecnn")
    assert TrainConfig.from_preset("paper", steps=10).steps == 10
    with pytest.raises(ValueError, match="preset='huge'.*ablation.*paper"):
        config_from_args(["--preset", "huge"])
    with pytest.raises(ValueError, match="labeled=.*mtat has no option 'subsett'"):
        TrainConfig(labeled="mtat:/data/MTAT?subsett=top50")
    with pytest.raises(ValueError, match="a run needs data"):
        TrainConfig(labeled="", unlabeled="")


def test_loader_workers_auto_feeds_a_gpu_and_stays_light_on_cpu(monkeypatch):
    assert loader_workers(3, torch.device("cpu")) == 3
    assert loader_workers("auto", torch.device("cpu")) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert loader_workers("auto", torch.device("cuda", 0)) == 15
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    assert loader_workers("auto", torch.device("cuda", 0), world=4) == 3


@pytest.mark.parametrize("flags, message", [
    (["--encoder", "foo"], "encoder='foo'"),
    (["--labeled", "embedded:{tiny}?task=nope"], "task='nope' is not in"),
    (["--labeled", "mtat:{tmp}/no_such_folder"], "not a directory"),
])
def test_a_failed_start_leaves_the_run_directory_as_it_was(tiny_data, tmp_path, flags, message):
    run_dir = tmp_path / "run"
    cli = _cli(tiny_data, run_dir, steps=1)
    bad = cli + [f.format(tiny=tiny_data, tmp=tmp_path) for f in flags]
    failed = subprocess.run(bad, capture_output=True, text=True)
    assert failed.returncode != 0 and message in failed.stderr
    assert not run_dir.exists()
    subprocess.run(cli, check=True, capture_output=True)  # the corrected command is accepted
    assert json.loads((run_dir / "config.json").read_text())["encoder"] == "small"


def test_atomic_write_keeps_previous_file_on_failure(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_text("previous")

    def crash(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, crash)
    assert path.read_text() == "previous"
    assert os.listdir(tmp_path) == ["checkpoint.pt"]


def _cli(tiny_data, run_dir, steps=10):
    labeled, unlabeled = specs(tiny_data).values()
    return [sys.executable, "-m", "semisup.train", "--run-dir", str(run_dir), "--labeled", labeled,
            "--unlabeled", unlabeled, "--steps", str(steps), "--checkpoint-every", "2", "--batch-size", "4",
            "--encoder", "small", "--progress", "false", "--num-workers", "0"]


def _state(run_dir):
    return torch.load(run_dir / "checkpoint.pt", weights_only=False)["model"]


def test_sigkill_then_resume_is_bit_identical(tiny_data, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(_cli(tiny_data, tmp_path / "straight"), check=True, env=env, capture_output=True)
    killed = tmp_path / "killed"
    process = subprocess.Popen(_cli(tiny_data, killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:  # kill once at least two checkpoints (4 steps) are logged
        metrics = killed / "metrics.csv"
        if metrics.exists() and len(pd.read_csv(metrics)) >= 4:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    interrupted_at = len(pd.read_csv(killed / "metrics.csv"))
    assert interrupted_at < 10, "the run finished before it could be killed"
    subprocess.run(_cli(tiny_data, killed), check=True, env=env, capture_output=True)
    straight, resumed = _state(tmp_path / "straight"), _state(killed)
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    steps = pd.read_csv(killed / "metrics.csv")["step"].tolist()
    assert steps == list(range(10))  # rows after the last checkpoint were rewritten, not duplicated


def test_passive_omp_wait_policy_changes_speed_not_results(tiny_data, tmp_path):
    # make and sweep.execute set OMP_WAIT_POLICY=PASSIVE: idle threads sleep, the arithmetic is the same
    states = []
    for policy in (None, "PASSIVE"):
        env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | {"OMP_NUM_THREADS": "2"}
        if policy:
            env["OMP_WAIT_POLICY"] = policy
        subprocess.run(_cli(tiny_data, tmp_path / str(policy), steps=3), check=True, env=env, capture_output=True)
        states.append(_state(tmp_path / str(policy)))
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def _rank_worker(rank, tiny_data, run_dir, init_file):
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": str(rank)})
    torch.distributed.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    torch.set_num_threads(1)
    train(config(tiny_data, run_dir, steps=1, batch_size=8, bs=0.5))
    torch.distributed.destroy_process_group()


def test_two_process_gloo_matches_single_process_first_step(tiny_data, tmp_path):
    run_dir = tmp_path / "ddp"
    mp.spawn(_rank_worker, args=(str(tiny_data), str(run_dir), str(tmp_path / "init")), nprocs=2, join=True)
    logged = pd.read_csv(run_dir / "metrics.csv")["loss"].iloc[0]
    # Single process: the same initial weights, each rank's half batch through the encoder
    # (BatchNorm statistics are per rank), one loss over the union of projections.
    from semisup.augment import AugmentationChain
    from semisup.data.datasets import load_dataset
    from semisup.data.sampler import SemiSupervisedSampler
    from semisup.loss import SemiSupConLoss

    cfg = config(tiny_data, tmp_path / "single", steps=1, batch_size=8, bs=0.5)
    labeled = load_dataset("embedded", tiny_data, task="notes", label="pitch")
    unlabeled = load_dataset("embedded", tiny_data, task="unlabeled")
    torch.manual_seed(cfg.seed)
    model = _build_model(cfg, len(labeled.classes))
    # Pitch labels: pitch_shift="auto" trains without pitch shifting (Table 3 †).
    chain = AugmentationChain(model.encoder.sample_rate, severity=2, p_chain=0.8, exclude=("pitch",))
    z, labels = [], []
    for rank in range(2):
        sampler = SemiSupervisedSampler(labeled, unlabeled, batch_size=4, ps=1.0, bs=0.5, n_views=2,
                                        crop_samples=model.encoder.crop_samples,
                                        sample_rate=model.encoder.sample_rate, seed=cfg.seed, rank=rank, world_size=2)
        batch = sampler.batch(0)
        b, v, n = batch["audio"].shape
        audio = chain(batch["audio"].reshape(b * v, 1, n), generator=_step_generator(cfg.seed, rank, 0, torch.device("cpu")))
        z.append(model(audio.reshape(b, v, n)))
        labels.append(batch["labels"])
    expected = SemiSupConLoss(gather=False)(torch.cat(z), torch.cat(labels)).item()
    assert logged == pytest.approx(expected, abs=1e-5)


def test_default_run_dir_shares_equivalent_runs():
    from semisup.train import default_run_dir

    tags, key = "embedded:data/small?task=tags", "embedded:data/small?task=key"
    ssl_a = TrainConfig(ps=0.0, bs=0.0, labeled=tags, num_workers=0)
    ssl_b = TrainConfig(ps=0.0, bs=0.5, labeled="embedded:data/small?task=notes&label=pitch", criterion=2,
                        num_workers=2)
    assert default_run_dir(ssl_a) == default_run_dir(ssl_b)  # no labels used: the same SSL run
    semi = TrainConfig(ps=1.0, bs=0.5, labeled=tags)
    assert "-tags-ps1-bs0.5-" in default_run_dir(semi)
    assert default_run_dir(semi) != default_run_dir(TrainConfig(ps=1.0, bs=0.5, labeled=key))
    assert default_run_dir(semi) != default_run_dir(TrainConfig(ps=1.0, bs=0.5, labeled=tags, seed=1))
    samplecnn = TrainConfig(encoder="samplecnn")
    assert default_run_dir(samplecnn) == default_run_dir(TrainConfig(encoder="samplecnn", sample_rate=22050))


def test_configs_saved_before_dataset_specs_still_load(tmp_path):
    old = {**asdict(TrainConfig()), "data_dir": "/d/small", "labeled_task": "notes:pitch", "unlabeled_task": "unlabeled"}
    del old["labeled"], old["unlabeled"], old["preset"]
    (tmp_path / "config.json").write_text(json.dumps(old))
    loaded = load_config(tmp_path)
    assert loaded.labeled == "embedded:/d/small?task=notes&label=pitch"
    assert loaded.unlabeled == "embedded:/d/small?task=unlabeled"


@pytest.mark.parametrize(("saved", "precision"), [(True, "bf16"), (False, "fp32")])
def test_configs_saved_with_a_boolean_amp_still_load(tmp_path, saved, precision):
    (tmp_path / "config.json").write_text(json.dumps({**asdict(TrainConfig()), "amp": saved}))
    assert load_config(tmp_path).amp == precision


def test_supervised_pairs_counts_pairs_of_different_clips_that_share_labels():
    from semisup.train import supervised_pairs

    assert supervised_pairs(torch.tensor([3, 1, 3, 3])) == 3  # clips 0, 2, 3 pairwise
    tags = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]])
    assert supervised_pairs(tags, 1) == 3 and supervised_pairs(tags, 2) == 0
    assert supervised_pairs(None) == 0


def test_preview_batch_picks_a_batch_with_supervised_positives(tiny_data, tmp_path):
    from semisup.train import preview_batch, supervised_pairs

    cfg = config(tiny_data, tmp_path / "p", ps=1.0, bs=0.5, batch_size=8)
    batch = preview_batch(cfg, look_ahead=10)
    assert batch["supervised_pairs"] == supervised_pairs(batch["labels"][:4]) > 0
    assert batch["audio"].shape[:2] == (8, 2)
    assert not (tmp_path / "p").exists()  # a look writes nothing


def test_pitch_shift_is_decided_from_the_loaded_dataset(tiny_data, tmp_path):
    from semisup.data.fixtures import write_giantsteps, write_nsynth
    from semisup.data.prepare import prepare
    from semisup.train import resolve_pitch_shift, trains_without_pitch_shift

    nsynth = write_nsynth(tmp_path / "nsynth", n_notes={"train": 3, "valid": 1, "test": 1}, seconds=1.0)
    giantsteps = write_giantsteps(tmp_path / "gs", "ID\tMANUAL KEY\tC\n1\tA minor\t2\n", {"2": "C major"},
                                  audio_seconds=None)
    prepare(f"nsynth:{nsynth}", tmp_path / "nsynth_16k", sample_rate=16000, workers=1, progress=False)
    # Table 3 †: the default label of nsynth: is pitch, so the spec need not spell it.
    assert trains_without_pitch_shift(f"nsynth:{nsynth}")
    assert trains_without_pitch_shift(f"prepared:{tmp_path / 'nsynth_16k'}")
    assert trains_without_pitch_shift(f"giantsteps:{giantsteps}")
    assert trains_without_pitch_shift(f"embedded:{tiny_data}?task=notes")  # default label pitch
    assert trains_without_pitch_shift(f"embedded:{tiny_data}?task=key")
    assert not trains_without_pitch_shift(f"nsynth:{nsynth}?label=family")
    assert not trains_without_pitch_shift(f"embedded:{tiny_data}?task=tags")
    assert not trains_without_pitch_shift("")
    semi = TrainConfig(labeled=f"nsynth:{nsynth}", unlabeled="", ps=1.0, bs=1.0)
    assert semi.pitch_shift == "auto" and resolve_pitch_shift(semi).pitch_shift is False
    assert resolve_pitch_shift(TrainConfig(labeled=f"nsynth:{nsynth}", ps=0.0, bs=0.0)).pitch_shift is True  # SSL
    assert resolve_pitch_shift(TrainConfig(labeled=f"nsynth:{nsynth}", pitch_shift=True)).pitch_shift is True
    assert config_from_args(["--pitch-shift", "false"]).pitch_shift is False
    assert config_from_args(["--pitch-shift", "auto"]).pitch_shift == "auto"
    with pytest.raises(ValueError, match="pitch_shift='maybe'"):
        TrainConfig(pitch_shift="maybe")
    # The run records the decided value; "auto" and the explicit value are the same run.
    run = train(config(tiny_data, tmp_path / "run", steps=1, ps=1.0, bs=0.5))
    assert json.loads((run / "config.json").read_text())["pitch_shift"] is False
    train(config(tiny_data, tmp_path / "run", steps=1, ps=1.0, bs=0.5, pitch_shift=False))  # resumes, no conflict
