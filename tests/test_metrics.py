import numpy as np
import pytest

from semisup.metrics import (
    evaluate,
    key_scores,
    multiclass_scores,
    multilabel_scores,
    regression_scores,
)


def test_multilabel_hand_worked():
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    s = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.4], [0.1, 0.5]])
    out = multilabel_scores(y, s)
    # tag 0: positives 0.9, 0.3 vs negatives 0.2, 0.1 -> AUROC 1; tag 1: 0.8,0.4 vs 0.1,0.5 -> 3/4
    assert out["auroc"] == pytest.approx((1 + 0.75) / 2)
    # AP tag 0 = 1; tag 1: ranking 0.8(+) 0.5(-) 0.4(+) -> (1 + 2/3) / 2
    assert out["ap"] == pytest.approx((1 + (1 + 2 / 3) / 2) / 2)
    assert out["n_classes_scored"] == 2


def test_multilabel_skips_tags_without_both_classes():
    y = np.array([[1, 0], [0, 0], [1, 0]])
    s = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.4]])
    assert multilabel_scores(y, s) == {"auroc": 1.0, "ap": 1.0, "n_classes_scored": 1}


def test_accuracy_and_key():
    classes = ["C major", "G major", "A minor"]
    y = np.array([0, 0, 2, 0])
    s = np.eye(3)[[0, 1, 2, 2]]  # C->C, C->G (fifth above), Am->Am, C->Am (relative)
    assert multiclass_scores(y, s)["accuracy"] == 0.5
    out = key_scores(y, s, classes)
    assert out["weighted"] == pytest.approx((1 + 0.5 + 1 + 0.3) / 4)


def test_regression():
    y = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    out = regression_scores(y, y, ["arousal", "valence"])
    assert out == {"r2": 1.0, "r2_arousal": 1.0, "r2_valence": 1.0}


@pytest.mark.parametrize(("args", "message"), [
    (("multilabel", [[0, 2]], [[0.1, 0.2]]), "0/1"),
    (("multilabel", [[0, 1]], [[np.nan, 0.2]]), "NaN"),
    (("multiclass", [0, 3], [[0.1, 0.2], [0.3, 0.4]]), "class indices"),
    (("multiclass", [0], [[0.1], [0.2]]), "rows"),
    (("ranking", [0], [[0.1]]), "task_type"),
])
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        evaluate(*args)
