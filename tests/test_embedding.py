import numpy as np
import pytest

from semisup.embedding import knn_accuracy, octave, pitch_class, plot_pitch_map, tsne_2d


def test_pitch_helpers():
    assert pitch_class([60, 61, 71]).tolist() == [0, 1, 11]
    assert octave([60, 59, 21]).tolist() == [4, 3, 0]


def test_knn_separates_clusters_and_not_noise():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 16)) * 5
    y = np.repeat(np.arange(3), 20)
    x = centres[y] + rng.standard_normal((60, 16))
    assert knn_accuracy(x[::2], y[::2], x[1::2], y[1::2]) == 1.0
    noise = rng.standard_normal((60, 16))
    assert knn_accuracy(noise[::2], y[::2], noise[1::2], y[1::2]) < 0.7


def test_tsne_is_seeded_and_keeps_clusters():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 15)
    x = np.where(y[:, None] == 0, 3.0, -3.0) + rng.standard_normal((30, 8))
    a, b = tsne_2d(x, seed=3), tsne_2d(x, seed=3)
    assert a.shape == (30, 2) and np.allclose(a, b)
    assert knn_accuracy(a[::2], y[::2], a[1::2], y[1::2], k=3) == 1.0
    plot_pitch_map(a, 60 + y)
    with pytest.raises(ValueError, match="N >= 4"):
        tsne_2d(x[:2])
