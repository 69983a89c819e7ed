"""Audio I/O: random chunks for training, whole tracks cut into crops for evaluation.

Training reads one random chunk of ``V * L`` samples per clip (Sec. 4.2: "one contiguous
chunk cut into adjacent crops"), so :func:`read_chunk` seeks into the file and decodes only
that chunk (soundfile ``seek`` + ``read``), never the whole track. Evaluation (probing
protocol, Sec. 5.2) cuts the whole track into non-overlapping crops, :func:`read_crops`
(the test embedding), and into a pool of overlapping crops at offsets spread over the whole
track, :func:`read_crop_pool` (from which a probe draws one random crop per epoch).

Conventions
-----------
- Output is float32 mono at the requested ``sample_rate``: channels are averaged (downmix),
  other rates are resampled with ``torchaudio.transforms.Resample`` (windowed sinc, one
  cached instance per ``(orig, new)`` rate pair).
- Lengths are in samples *at the requested rate*: ``n_samples``, ``crop_samples`` (``L``).
- **Short files.** Training views (:func:`read_views`) of a file shorter than ``V * L``
  samples are ``V`` crops of ``L`` at random, possibly overlapping, offsets (in time order),
  as the authors' code does, instead of a chunk whose last view is mostly silence (NSynth's
  4 s notes hold 1.5 views of 2.7 s); only a file shorter than one crop is zero-padded, its
  views then identical before augmentation. :func:`read_chunk` zero-pads a short file at the
  end; a file shorter than one evaluation crop gives one zero-padded crop.
- **Bad files** raise :class:`AudioFileError` (a ``ValueError``) naming the file: missing
  (:class:`MissingAudioError`, also a ``FileNotFoundError``), unreadable/corrupt, empty (no
  frames, :class:`EmptyAudioError`), or with NaN/inf among the decoded samples (a chunk read
  checks the chunk it decoded, not the whole file). Callers that prefer to go on record them
  in a :class:`SkippedFiles` log (``skip_bad=True`` in the sampler and in
  :func:`iter_crops`); nothing is skipped silently.
- Randomness comes only from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import functools
import math
import os
import stat
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import soundfile as sf
import torch
import torchaudio
from torch import Tensor

from semisup.progress import progress_bar

__all__ = [
    "AudioFileError",
    "MissingAudioError",
    "EmptyAudioError",
    "AudioInfo",
    "SkippedFiles",
    "audio_info",
    "read_chunk",
    "read_views",
    "read_audio",
    "read_crops",
    "cut_crops",
    "crop_starts",
    "read_crop_pool",
    "iter_crops",
    "get_resampler",
]


class AudioFileError(ValueError):
    """An audio file cannot be used (corrupt, empty, NaN/inf samples); the message names it."""


class MissingAudioError(AudioFileError, FileNotFoundError):
    """An audio file does not exist (both an :class:`AudioFileError` and a FileNotFoundError)."""


class EmptyAudioError(AudioFileError):
    """An audio file opens but holds no audio frames."""


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says: ``frames`` per channel, ``sample_rate`` (Hz), ``channels``."""

    path: str
    frames: int
    sample_rate: int
    channels: int

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.frames / self.sample_rate


@dataclass
class SkippedFiles:
    """Log of bad files that were skipped instead of failing (``skip_bad=True``).

    Each file is warned about once (``UserWarning`` naming it and the reason) and counted
    every time it is skipped, so a run's summary says how much data was lost.
    """

    reasons: dict[str, str] = field(default_factory=dict)
    count: int = 0

    def add(self, path: str | os.PathLike, error: Exception) -> None:
        """Record that ``path`` was skipped because of ``error``."""
        key = str(path)
        self.count += 1
        if key not in self.reasons:
            self.reasons[key] = str(error)
            warnings.warn(f"skipping bad audio file: {error}", UserWarning, stacklevel=3)

    def __len__(self) -> int:
        """Return the number of distinct bad files."""
        return len(self.reasons)

    def summary(self) -> str:
        """One line: how many distinct files were skipped, how many times in total."""
        return f"{len(self)} bad audio file(s) skipped ({self.count} time(s) in total)"


@functools.lru_cache(maxsize=32)
def get_resampler(orig_sample_rate: int, new_sample_rate: int) -> torchaudio.transforms.Resample:
    """Return a cached ``torchaudio.transforms.Resample`` for one ``(orig, new)`` rate pair.

    The transform precomputes its sinc kernel once; re-creating it per file costs ~5x the
    resampling itself on 2.7 s chunks.
    """
    return torchaudio.transforms.Resample(int(orig_sample_rate), int(new_sample_rate))


def _check_request(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _open(path: str) -> sf.SoundFile:
    """Open ``path`` with libsndfile, sidestepping macOS AppleDouble files.

    Given a path, libsndfile also reads a sibling ``._<name>`` as the file's resource fork
    (Sound Designer II support); the AppleDouble files that macOS leaves on shared drives
    then make it fail on MP3s without an ID3 tag ("bad data offset"). Such a file is opened
    again through a Python file object, which has no sibling.
    """
    try:
        return sf.SoundFile(path)
    except sf.LibsndfileError:
        if not os.path.exists(os.path.join(os.path.dirname(path), "._" + os.path.basename(path))):
            raise
        return sf.SoundFile(open(path, "rb"))  # noqa: SIM115 (closed with the SoundFile: closefd)


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Read the header of ``path`` without decoding audio.

    Raises
    ------
    MissingAudioError
        The file does not exist.
    EmptyAudioError
        It has 0 bytes, or no frames.
    AudioFileError
        libsndfile cannot open it (corrupt, unsupported).
    """
    path = os.fspath(path)
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        status = None
    if status is None or not stat.S_ISREG(status.st_mode):
        raise MissingAudioError(f"audio file not found: {path}")
    if status.st_size == 0:  # libsndfile would say "File does not exist or is not a regular file"
        raise EmptyAudioError(f"audio file {path} is empty (0 bytes)")
    try:
        # Opening the file reads the same header as sf.info at half the cost (sf.info also
        # fetches libsndfile's log text), which matters at ~2 000 chunk reads/s per core.
        with _open(path) as f:
            frames, sample_rate, channels = f.frames, f.samplerate, f.channels
    except (sf.LibsndfileError, RuntimeError) as error:
        raise AudioFileError(f"cannot read audio file {path}: {error}") from error
    if frames <= 0 or sample_rate <= 0:
        raise EmptyAudioError(
            f"audio file {path} is empty ({frames} frames at {sample_rate} Hz)"
        )
    return AudioInfo(path, int(frames), int(sample_rate), int(channels))


def _read_frames(path: str, start: int, n_frames: int | None) -> np.ndarray:
    """Decode ``n_frames`` (``None`` = to the end) from frame ``start``: ``[n, channels]``.

    16-bit PCM comes back as int16 (libsndfile's own int16 -> float32 conversion costs ~3x
    the read; :func:`_to_mono` scales by 2^-15 exactly as libsndfile does), anything else
    as float32.
    """
    try:
        with _open(path) as f:
            if start:
                f.seek(start)
            dtype = "int16" if f.subtype == "PCM_16" else "float32"
            return f.read(-1 if n_frames is None else n_frames, dtype=dtype, always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as error:
        raise AudioFileError(f"cannot decode audio file {path}: {error}") from error


def _to_mono(path: str, frames: np.ndarray, sample_rate: int, target_rate: int) -> Tensor:
    """``[n, channels]`` int16 or float32 array -> finite float32 mono ``[T]`` at ``target_rate``."""
    if frames.shape[0] == 0:
        raise EmptyAudioError(f"audio file {path}: no audio frames could be decoded")
    if frames.dtype == np.int16:  # PCM: always finite; x / 32768 as libsndfile's float read
        frames = frames.astype(np.float32) * np.float32(2.0**-15)
    elif not np.isfinite(frames).all():
        raise AudioFileError(
            f"audio file {path} contains NaN or inf samples; re-encode it or drop it"
        )
    # [T] downmix; one channel is taken as it is (the mean of one value is that value).
    mono = torch.from_numpy(frames[:, 0] if frames.shape[1] == 1 else
                            frames.mean(axis=1, dtype=np.float32))
    if sample_rate != target_rate:
        mono = get_resampler(sample_rate, target_rate)(mono)
    return mono


def _fit(x: Tensor, n_samples: int) -> Tensor:
    """Trim or zero-pad (at the end) ``x`` ``[T]`` to exactly ``n_samples``."""
    if x.shape[0] >= n_samples:
        return x[:n_samples].contiguous()
    return torch.nn.functional.pad(x, (0, n_samples - x.shape[0]))


def read_chunk(
    path: str | os.PathLike,
    n_samples: int,
    sample_rate: int,
    *,
    rng: np.random.Generator | None = None,
    start_s: float = 0.0,
) -> Tensor:
    """Read ``n_samples`` contiguous samples of ``path`` without decoding the whole file.

    Parameters
    ----------
    path : path-like
        Any format libsndfile reads (WAV, FLAC, OGG, MP3 ...).
    n_samples : int
        Chunk length at ``sample_rate`` (e.g. ``V * L`` for ``V`` views of ``L`` samples).
    sample_rate : int
        Output rate in Hz; the file is resampled when its rate differs.
    rng : numpy.random.Generator, optional
        Draw the start uniformly among the positions where the whole chunk fits.
    start_s : float
        Start time in seconds when ``rng`` is None.

    Returns
    -------
    Tensor
        float32 ``[n_samples]``, mono. Zero-padded at the end when the file (or the part after
        ``start_s``) is shorter than the chunk.

    Raises
    ------
    AudioFileError
        Missing, unreadable, empty file, NaN/inf samples, or ``start_s`` past the end.
    """
    n_samples = _check_request("n_samples", n_samples)
    sample_rate = _check_request("sample_rate", sample_rate)
    return _read_chunk(audio_info(path), n_samples, sample_rate, rng, start_s)


def _read_chunk(info: AudioInfo, n_samples: int, sample_rate: int, rng: np.random.Generator | None,
                start_s: float) -> Tensor:
    """:func:`read_chunk` once the header is read."""
    # Frames to decode at the file's rate so that resampling yields >= n_samples.
    n_read = n_samples if info.sample_rate == sample_rate else math.ceil(
        n_samples * info.sample_rate / sample_rate
    )
    if rng is not None:
        start = int(rng.integers(0, info.frames - n_read + 1)) if info.frames > n_read else 0
    else:
        if not (math.isfinite(start_s) and start_s >= 0):
            raise ValueError(f"start_s must be a finite number >= 0 seconds, got {start_s!r}")
        start = round(start_s * info.sample_rate)
        if start >= info.frames:
            raise AudioFileError(
                f"start_s={start_s} is past the end of {info.path} ({info.duration_s:.2f} s)"
            )
    frames = _read_frames(info.path, start, n_read)
    deficit = n_read - frames.shape[0]
    if deficit > 0 and rng is not None and start > 0:
        # Compressed formats (MP3) can report more frames than they decode; the true end is
        # now known, so move the start back once instead of padding a random chunk.
        start = max(0, start - deficit)
        frames = _read_frames(info.path, start, n_read)
    return _fit(_to_mono(info.path, frames, info.sample_rate, sample_rate), n_samples)


def read_views(
    path: str | os.PathLike, n_views: int, crop_samples: int, sample_rate: int, *,
    rng: np.random.Generator,
) -> Tensor:
    """Read ``V`` training views of ``L`` samples from one file (Sec. 4.2, REFERENCE "Batches").

    A file holding at least ``V * L`` samples gives one contiguous random chunk cut into ``V``
    adjacent, non-overlapping crops. A shorter file gives ``V`` crops at random offsets that
    may overlap, in time order; a file shorter than one crop gives ``V`` copies of the
    zero-padded file (see "Short files" in the module docstring).

    Returns
    -------
    Tensor
        float32 ``[V, L]``.
    """
    n_views = _check_request("n_views", n_views)
    crop_samples = _check_request("crop_samples", crop_samples)
    sample_rate = _check_request("sample_rate", sample_rate)
    info = audio_info(path)
    n_chunk = n_views * crop_samples
    if info.frames * sample_rate // info.sample_rate >= n_chunk:
        return _read_chunk(info, n_chunk, sample_rate, rng, 0.0).reshape(n_views, crop_samples)  # [V, L]
    audio = _to_mono(info.path, _read_frames(info.path, 0, None), info.sample_rate, sample_rate)  # [T]
    if audio.shape[0] <= crop_samples:
        return _fit(audio, crop_samples).expand(n_views, crop_samples).clone()  # [V, L]
    starts = np.sort(rng.integers(0, audio.shape[0] - crop_samples + 1, size=n_views))
    return torch.stack([audio[s:s + crop_samples] for s in starts])  # [V, L]


def read_audio(
    path: str | os.PathLike, sample_rate: int, *, max_samples: int | None = None
) -> Tensor:
    """Read a whole track (or its first ``max_samples`` samples) as float32 mono ``[T]``.

    Only the frames needed for ``max_samples`` are decoded.
    """
    sample_rate = _check_request("sample_rate", sample_rate)
    info = audio_info(path)
    n_read = None
    if max_samples is not None:
        max_samples = _check_request("max_samples", max_samples)
        n_read = math.ceil(max_samples * info.sample_rate / sample_rate)
    mono = _to_mono(info.path, _read_frames(info.path, 0, n_read), info.sample_rate, sample_rate)
    return mono if max_samples is None else mono[:max_samples]


def read_crops(
    path: str | os.PathLike, crop_samples: int, sample_rate: int, *, max_crops: int = 64
) -> Tensor:
    """Cut a whole track into non-overlapping crops for evaluation (probing protocol, Sec. 5.2).

    Parameters
    ----------
    path : path-like
        Audio file.
    crop_samples : int
        Crop length ``L`` in samples at ``sample_rate`` (2.7 s = 59 535 at 22 050 Hz).
    sample_rate : int
        Output rate in Hz.
    max_crops : int
        Keep at most this many crops, from the start of the track (64 as in the paper); only
        ``max_crops * L`` samples are decoded.

    Returns
    -------
    Tensor
        float32 ``[K, L]``, ``K = min(max_crops, T // L)`` crops in time order; the incomplete
        tail is dropped. A track shorter than one crop gives ``K = 1`` zero-padded crop.
    """
    crop_samples = _check_request("crop_samples", crop_samples)
    max_crops = _check_request("max_crops", max_crops)
    return cut_crops(read_audio(path, sample_rate, max_samples=max_crops * crop_samples), crop_samples)


def cut_crops(audio: Tensor, crop_samples: int) -> Tensor:
    """Cut audio ``[T]`` into ``[K, L]`` non-overlapping crops from its start (Sec. 5.2's test crops).

    ``K = T // L``; the incomplete tail is dropped, and audio shorter than one crop gives one
    crop zero-padded at the end. Used by :func:`read_crops` and :mod:`semisup.hear`.
    """
    n_crops = audio.shape[-1] // crop_samples
    if n_crops == 0:
        return _fit(audio, crop_samples)[None]  # [1, L]
    return audio[: n_crops * crop_samples].reshape(n_crops, crop_samples)  # [K, L]


def crop_starts(n_samples: int, crop_samples: int, hop_samples: int, max_crops: int = 64) -> np.ndarray:
    """Offsets (samples) of a track's crop pool: evenly spread from 0 to ``T - L``.

    ``K = min(max_crops, ceil((T - L) / hop) + 1)`` offsets, the first at 0 and the last at
    ``T - L`` (a crop ending with the track), spaced at most ``hop_samples`` apart while
    ``K < max_crops`` and evenly over the whole track beyond that, so a long track costs
    ``max_crops`` crops. A track no longer than one crop has the single offset 0.

    Returns
    -------
    np.ndarray
        int64 ``[K]``, increasing.
    """
    crop_samples = _check_request("crop_samples", crop_samples)
    hop_samples = _check_request("hop_samples", hop_samples)
    max_crops = _check_request("max_crops", max_crops)
    slack = n_samples - crop_samples
    if slack <= 0:
        return np.zeros(1, dtype=np.int64)
    n_crops = min(max_crops, math.ceil(slack / hop_samples) + 1)
    if n_crops == 1:
        return np.zeros(1, dtype=np.int64)
    return np.round(np.linspace(0, slack, n_crops)).astype(np.int64)


def read_crop_pool(
    path: str | os.PathLike, crop_samples: int, sample_rate: int, *, hop_samples: int, max_crops: int = 64
) -> Tensor:
    """Cut a whole track into overlapping crops at :func:`crop_starts` offsets (probe training).

    The authors' probes train and validate on one crop per track and epoch at a random offset
    (docs/departures.md, "Probes"); embedding this pool once and drawing from it each epoch stands in for
    decoding and encoding a fresh random crop every epoch.

    Returns
    -------
    Tensor
        float32 ``[K, L]`` crops in time order; a track shorter than one crop gives ``K = 1``
        zero-padded crop.
    """
    audio = read_audio(path, sample_rate)  # [T]
    if audio.shape[0] < crop_samples:
        return _fit(audio, crop_samples)[None]  # [1, L]
    starts = crop_starts(audio.shape[0], crop_samples, hop_samples, max_crops)
    return torch.stack([audio[start:start + crop_samples] for start in starts.tolist()])  # [K, L]


def iter_crops(
    paths: Sequence[str | os.PathLike],
    crop_samples: int,
    sample_rate: int,
    *,
    max_crops: int = 64,
    skip_bad: bool = False,
    skipped: SkippedFiles | None = None,
    progress: bool = False,
) -> Iterator[tuple[int, Tensor]]:
    """Yield ``(i, crops [K, L])`` for each track ``paths[i]`` (see :func:`read_crops`).

    With ``skip_bad=True`` a bad file is recorded in ``skipped`` (warned once) and its index
    is not yielded; otherwise the :class:`AudioFileError` propagates. When ``skip_bad`` is on
    and no log is passed, a summary warning is emitted at the end.
    """
    log = skipped if skipped is not None else SkippedFiles()
    for i, path in enumerate(progress_bar(paths, desc="reading tracks", disable=not progress)):
        try:
            crops = read_crops(path, crop_samples, sample_rate, max_crops=max_crops)
        except AudioFileError as error:
            if not skip_bad:
                raise
            log.add(path, error)
            continue
        yield i, crops
    if skip_bad and skipped is None and log.count:
        warnings.warn(log.summary(), UserWarning, stacklevel=2)

