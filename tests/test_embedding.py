import numpy as np
import pytest

from semisup.embedding import (
    knn_accuracy,
    neighbour_pitch,
    octave,
    pitch_class,
    plot_pitch_map,
    tsne_2d,
)


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


def test_neighbour_pitch_on_a_hand_worked_case():
    # two tight groups: C4/C5 (same pitch class, 12 semitones apart) and D4 (2 semitones from C4)
    x = np.array([[1.0, 0.0], [0.99, 0.01], [0.0, 1.0], [0.01, 0.99]])
    midi = [60, 72, 62, 62]
    scores = neighbour_pitch(x, midi, k=1)
    assert scores["same_pitch_class"] == 1.0 and scores["semitones"] == (12 + 12 + 0 + 0) / 4
    # chance over the 12 ordered pairs: same class 4/12; |Δ| = 12,2,2 | 12,10,10 | 2,10,0 | 2,10,0
    assert scores["same_pitch_class_chance"] == 4 / 12
    assert np.isclose(scores["semitones_chance"], (16 + 32 + 12 + 12) / 12)
    with pytest.raises(ValueError, match="N pitches"):
        neighbour_pitch(x, midi[:3])


def test_pitch_map_draws_height_colours_and_a_size_legend():
    points = np.random.default_rng(0).standard_normal((6, 2))
    for colour in ("pitch class", "pitch height"):
        fig = plot_pitch_map(points, [36, 48, 50, 60, 72, 84], colour=colour)
        legend = fig.axes[0].get_legend()
        assert [t.get_text() for t in legend.get_texts()] == [f"octave {o}" for o in range(2, 7)]
    with pytest.raises(ValueError, match="colour"):
        plot_pitch_map(points, [60] * 6, colour="hue")
