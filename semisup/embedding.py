"""Looking at and measuring an embedding space (Sec. 5.5, Figures 4 and 5).

- :func:`tsne_2d`: openTSNE map of embeddings, seeded;
- :func:`knn_accuracy`: cosine k-nearest-neighbour accuracy (train → test), so structure seen
  in a t-SNE picture is also *measured*;
- :func:`plot_pitch_map`: colour = pitch class, size = octave, as in Figure 4.

Conventions
-----------
- Embeddings are ``[N, D]`` float arrays (frozen encoder outputs, projection head dropped).
- MIDI pitch ``p``: pitch class ``p % 12`` (0 = C), octave ``p // 12 - 1`` (MIDI 60 = C4).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from openTSNE import TSNE
from sklearn.neighbors import KNeighborsClassifier

__all__ = ["tsne_2d", "knn_accuracy", "pitch_class", "octave", "plot_pitch_map", "PITCH_CLASSES"]

PITCH_CLASSES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def tsne_2d(embeddings: np.ndarray, seed: int = 123, perplexity: float = 30.0) -> np.ndarray:
    """Return a 2-D openTSNE embedding ``[N, 2]`` of ``[N, D]`` (cosine metric, seeded).

    The perplexity is capped at ``(N - 1) / 3`` so small sets (smoke runs) still work.
    """
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or len(x) < 4:
        raise ValueError(f"t-SNE needs [N, D] embeddings with N >= 4, got shape {x.shape}")
    perplexity = min(perplexity, (len(x) - 1) / 3)
    tsne = TSNE(n_components=2, perplexity=perplexity, metric="cosine", random_state=seed, n_jobs=1, verbose=False)
    return np.asarray(tsne.fit(x))


def knn_accuracy(train_x, train_y, test_x, test_y, k: int = 5) -> float:
    """Accuracy of a cosine k-NN classifier fitted on ``train`` and scored on ``test``.

    Parameters
    ----------
    train_x, test_x : array [N, D]
        Embeddings.
    train_y, test_y : array [N]
        Integer labels (e.g. pitch classes).
    k : int
        Neighbours (capped at the number of training points).
    """
    train_x, test_x = np.asarray(train_x), np.asarray(test_x)
    if len(train_x) == 0 or len(test_x) == 0:
        raise ValueError("k-NN needs non-empty train and test sets")
    model = KNeighborsClassifier(n_neighbors=min(k, len(train_x)), metric="cosine")
    model.fit(train_x, np.asarray(train_y))
    return float(model.score(test_x, np.asarray(test_y)))


def pitch_class(midi_pitch) -> np.ndarray:
    """Return the pitch class ``p % 12`` (0 = C) of MIDI pitches."""
    return np.asarray(midi_pitch, dtype=int) % 12


def octave(midi_pitch) -> np.ndarray:
    """Return the scientific-pitch octave ``p // 12 - 1`` of MIDI pitches (60 → 4)."""
    return np.asarray(midi_pitch, dtype=int) // 12 - 1


def plot_pitch_map(points: np.ndarray, midi_pitch, title: str = "", ax=None):
    """Scatter a 2-D map: colour = pitch class (cyclic palette), size = octave (Figure 4)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    classes, octaves = pitch_class(midi_pitch), octave(midi_pitch)
    sizes = 6 + 10 * (octaves - octaves.min())
    scatter = ax.scatter(points[:, 0], points[:, 1], c=classes, s=sizes, cmap="hsv", vmin=0, vmax=12,
                         alpha=0.75, linewidths=0)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    colorbar = ax.figure.colorbar(scatter, ax=ax, ticks=np.arange(12) + 0.5, fraction=0.046)
    colorbar.ax.set_yticklabels(PITCH_CLASSES)
    return ax.figure
