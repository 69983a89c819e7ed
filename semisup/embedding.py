"""Looking at and measuring an embedding space (Sec. 5.5, Figures 4 and 5).

- :func:`tsne_2d`: openTSNE map of embeddings, seeded;
- :func:`knn_accuracy`: cosine k-nearest-neighbour accuracy (train → test), so structure seen
  in a t-SNE picture is also *measured*;
- :func:`neighbour_pitch`: on the very points a map draws, how often a note's nearest
  neighbours (cosine, in the embedding, not the 2-D map) share its pitch class and how many
  semitones away they are, each beside its chance level: the numbers the eye should see;
- :func:`plot_pitch_map`: colour = pitch class (or pitch height), size = octave with a
  legend, as in Figure 4.

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

__all__ = ["tsne_2d", "knn_accuracy", "neighbour_pitch", "pitch_class", "octave", "plot_pitch_map",
           "PITCH_CLASSES"]

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


def neighbour_pitch(embeddings: np.ndarray, midi_pitch, k: int = 5) -> dict[str, float]:
    """Pitch structure among each point's ``k`` nearest neighbours (cosine; the point itself excluded).

    Computed on the same ``[N, D]`` embeddings a t-SNE map draws, so the numbers describe the
    picture's points. Each measure comes with its chance level on these points: the value
    expected if neighbours were drawn at random among the other ``N - 1`` points.

    Parameters
    ----------
    embeddings : array [N, D]
        Embeddings of N notes.
    midi_pitch : array [N]
        Their MIDI pitches.
    k : int
        Neighbours per point (capped at ``N - 1``).

    Returns
    -------
    dict
        ``same_pitch_class``: share of neighbours with the point's pitch class (0-1);
        ``same_pitch_class_chance``; ``semitones``: mean ``|pitch difference|`` to the
        neighbours; ``semitones_chance``; ``k``.
    """
    x = np.asarray(embeddings, dtype=np.float64)
    midi = np.asarray(midi_pitch, dtype=int)
    if x.ndim != 2 or len(x) != len(midi) or len(x) < 2:
        raise ValueError(f"need [N, D] embeddings and N pitches with N >= 2, got {x.shape} and {midi.shape}")
    k = min(k, len(x) - 1)
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T  # [N, N] cosine
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :k]  # [N, k]
    classes = pitch_class(midi)
    distance = np.abs(midi[:, None] - midi[None, :])  # [N, N] semitones
    off_diagonal = ~np.eye(len(x), dtype=bool)
    return {"same_pitch_class": float(np.mean(classes[nearest] == classes[:, None])),
            "same_pitch_class_chance": float(np.mean((classes[:, None] == classes[None, :])[off_diagonal])),
            "semitones": float(np.mean(np.abs(midi[nearest] - midi[:, None]))),
            "semitones_chance": float(np.mean(distance[off_diagonal])), "k": k}


def pitch_class(midi_pitch) -> np.ndarray:
    """Return the pitch class ``p % 12`` (0 = C) of MIDI pitches."""
    return np.asarray(midi_pitch, dtype=int) % 12


def octave(midi_pitch) -> np.ndarray:
    """Return the scientific-pitch octave ``p // 12 - 1`` of MIDI pitches (60 → 4)."""
    return np.asarray(midi_pitch, dtype=int) // 12 - 1


def plot_pitch_map(points: np.ndarray, midi_pitch, title: str = "", ax=None, colour: str = "pitch class"):
    """Scatter a 2-D map of notes, size = octave (legend), as in Figure 4.

    Parameters
    ----------
    points : array [N, 2]
        Map coordinates (:func:`tsne_2d`).
    midi_pitch : array [N]
        MIDI pitches of the points.
    title : str
        Axes title.
    ax : matplotlib axes or None
        Where to draw (None: a new figure).
    colour : {"pitch class", "pitch height"}
        "pitch class": a cyclic palette over C ... B (octaves share a colour); "pitch height":
        a sequential palette over MIDI pitch (neighbouring pitches look alike).
    """
    if colour not in ("pitch class", "pitch height"):
        raise ValueError(f"colour must be 'pitch class' or 'pitch height', got {colour!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    midi = np.asarray(midi_pitch, dtype=int)
    octaves = octave(midi)
    low = int(octaves.min())
    sizes = 8 + 14 * (octaves - low)
    if colour == "pitch class":
        scatter = ax.scatter(points[:, 0], points[:, 1], c=pitch_class(midi), s=sizes, cmap="hsv", vmin=0, vmax=12,
                             alpha=0.8, linewidths=0)
        colorbar = ax.figure.colorbar(scatter, ax=ax, ticks=np.arange(12) + 0.5, fraction=0.046)
        colorbar.ax.set_yticklabels(PITCH_CLASSES)
    else:
        scatter = ax.scatter(points[:, 0], points[:, 1], c=midi, s=sizes, cmap="viridis", alpha=0.8, linewidths=0)
        ticks = [p for p in range(int(midi.min()), int(midi.max()) + 1) if p % 12 == 0] or [int(midi.min())]
        colorbar = ax.figure.colorbar(scatter, ax=ax, ticks=ticks, fraction=0.046)
        colorbar.ax.set_yticklabels([f"{PITCH_CLASSES[p % 12]}{p // 12 - 1}" for p in ticks])
    handles = [plt.scatter([], [], s=8 + 14 * (o - low), color="0.4", linewidths=0)
               for o in range(low, int(octaves.max()) + 1)]
    ax.legend(handles, [f"octave {o}" for o in range(low, int(octaves.max()) + 1)], title="dot size",
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles), fontsize=8, title_fontsize=8,
              frameon=False, handletextpad=0.2, columnspacing=0.8)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax.figure
