"""Notebook sentences and tables computed from the data: true for tags, pitch and b_s = 0."""

import math

import pandas as pd
import torch

from semisup.explain import (
    NO_LABELED,
    describe_pitch_maps,
    describe_targets,
    percent,
    sparsity_percent,
    training_summary,
)
from semisup.loss import contrastive_target


def test_percent_has_one_unit_and_no_nan():
    assert percent(0.938) == "93.8" and percent(1.0) == "100.0"
    assert percent(math.nan) == NO_LABELED and percent(None) == NO_LABELED


def test_a_batch_without_labeled_clips_says_so_and_never_claims_shared_labels():
    labels = torch.full((4,), -1)
    text = describe_targets(labels, torch.zeros(4, dtype=torch.bool))
    assert "no labeled clips" in text and "share a label" not in text
    table = sparsity_percent({"C = 1": contrastive_target(labels, 2)}, torch.zeros(4, dtype=torch.bool))
    assert table.loc["s_sl (%)", "C = 1"] == NO_LABELED
    assert table.loc["s_smsl (%)", "C = 1"] == "87.5"  # 8 x 8 views, 8 positives: 1 - 8/64


def test_one_label_per_clip_explains_the_c2_and_weighted_panels():
    labels = torch.tensor([3, 3, 5, -1])  # pitches; clip 3 unlabeled
    text = describe_targets(labels, torch.tensor([True, True, True, False]))
    assert text.startswith("3 of the 4 clips are labeled") and "1 label(s) per clip" in text
    assert "1 pairs of them share a label" in text and "C = 2 panel keeps only" in text


def test_multilabel_counts_pairs_and_the_runs_criterion():
    labels = torch.tensor([[1, 1, 0], [1, 1, 1], [0, 0, 1], [0, 0, 0]])  # tags; clip 3 unlabeled
    text = describe_targets(labels, torch.tensor([True, True, True, False]), criterion=2)
    assert "1-3 label(s) per clip" in text and "2 pairs of them share a label" in text
    assert "C = 2, 1 pairs are positives" in text and "C = 2 panel keeps only" not in text


def test_training_summary_in_percent_with_na_for_self_supervised_runs():
    metrics = pd.DataFrame({"loss": [4.0] * 10, "s_sl": [math.nan] * 10, "s_smsl": [0.97] * 10,
                            "labeled_fraction": [0.0] * 10})
    column = training_summary(metrics).iloc[:, 0]
    assert column["s_sl (%)"] == NO_LABELED and column["s_smsl (%)"] == "97.0"
    assert column["labeled share of the batch (%)"] == "0.0" and column["loss"] == "4.000"


def test_pitch_map_sentences_follow_the_numbers():
    weak = {"k": 5, "same_pitch_class": 0.3, "same_pitch_class_chance": 0.09, "semitones": 9.0,
            "semitones_chance": 20.0}
    text = describe_pitch_maps({"ssl": weak | {"same_pitch_class": 0.1, "semitones": 3.9}, "pitch": weak}, 400)
    assert "pitch: 30.0 % of each note's 5 nearest neighbours" in text and "(chance 9.0 %)" in text
    assert "do not expect single-colour clusters among these 400 notes" in text
    assert "pitch height for: ssl; expect smooth colour gradients" in text  # 3.9 <= 20 / 3 < 9.0

    assert "can form" in describe_pitch_maps({"pitch": weak | {"same_pitch_class": 0.6}}, 400)
