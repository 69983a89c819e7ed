import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio

from semisup.data import audio
from semisup.data.audio import (
    AudioFileError,
    MissingAudioError,
    SkippedFiles,
    audio_info,
    get_resampler,
    iter_crops,
    read_audio,
    read_chunk,
    read_crops,
    read_views,
)

SR = 8000
SCALE = 2.0**-20  # ramp sample i holds i * 2^-20: exact in float32, decodable back to i


def ramp(path, n, sample_rate=SR, channels=1):
    x = (np.arange(n) * SCALE).astype(np.float32)
    data = np.stack([x] * channels, axis=1) if channels > 1 else x
    sf.write(path, data, sample_rate, subtype="FLOAT")
    return path


def index_of(x):
    return np.rint(np.asarray(x, dtype=np.float64) / SCALE).astype(np.int64)


def test_random_chunk_is_contiguous_and_inside_the_file(tmp_path):
    path = ramp(tmp_path / "ramp.wav", 10_000)
    rng = np.random.default_rng(0)
    starts = []
    for _ in range(50):
        x = read_chunk(path, 1000, SR, rng=rng)
        assert x.dtype == torch.float32 and x.shape == (1000,)
        idx = index_of(x)
        assert np.array_equal(np.diff(idx), np.ones(999))  # contiguous
        assert 0 <= idx[0] and idx[-1] < 10_000  # no padding needed, none done
        starts.append(idx[0])
    assert len(set(starts)) > 40  # the start really is random
    assert max(starts) > 7000 and min(starts) < 2000  # and spans the file


def test_chunk_is_reproducible_from_the_generator(tmp_path):
    path = ramp(tmp_path / "ramp.wav", 10_000)
    a = read_chunk(path, 500, SR, rng=np.random.default_rng(7))
    b = read_chunk(path, 500, SR, rng=np.random.default_rng(7))
    c = read_chunk(path, 500, SR, rng=np.random.default_rng(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_chunk_decodes_only_what_it_needs(tmp_path, monkeypatch):
    path = ramp(tmp_path / "ramp.wav", 100_000)
    requested = []
    original = sf.SoundFile.read

    def spy(self, frames=-1, *args, **kwargs):
        requested.append(frames)
        return original(self, frames, *args, **kwargs)

    monkeypatch.setattr(sf.SoundFile, "read", spy)
    read_chunk(path, 1234, SR, rng=np.random.default_rng(0))
    assert requested == [1234]


def test_start_seconds_and_past_the_end(tmp_path):
    path = ramp(tmp_path / "ramp.wav", 10_000)
    x = read_chunk(path, 100, SR, start_s=0.5)
    assert index_of(x)[0] == 4000
    with pytest.raises(AudioFileError, match="past the end"):
        read_chunk(path, 100, SR, start_s=2.0)
    with pytest.raises(ValueError, match="start_s"):
        read_chunk(path, 100, SR, start_s=-1.0)


def test_short_file_is_zero_padded_at_the_end(tmp_path):
    path = ramp(tmp_path / "short.wav", 300)
    x = read_chunk(path, 1000, SR, rng=np.random.default_rng(0))
    assert x.shape == (1000,)
    assert np.array_equal(index_of(x[:300]), np.arange(300))
    assert torch.all(x[300:] == 0)


def test_stereo_is_downmixed(tmp_path):
    left = np.full(2000, 0.5, dtype=np.float32)
    right = np.full(2000, -0.25, dtype=np.float32)
    sf.write(tmp_path / "st.wav", np.stack([left, right], 1), SR, subtype="FLOAT")
    x = read_chunk(tmp_path / "st.wav", 500, SR, rng=np.random.default_rng(0))
    assert torch.allclose(x, torch.full((500,), 0.125))
    assert audio_info(tmp_path / "st.wav").channels == 2


@pytest.mark.parametrize("channels", [1, 2])
def test_16_bit_pcm_reads_exactly_as_libsndfile_floats(tmp_path, channels):
    # read_chunk decodes PCM_16 as int16 and scales by 2^-15 itself (3x faster): same numbers.
    x = np.random.default_rng(0).integers(-32768, 32768, size=(3000, channels), dtype=np.int16)
    x[0] = -32768
    sf.write(tmp_path / "pcm.wav", x, SR, subtype="PCM_16")
    decoded = sf.read(tmp_path / "pcm.wav", dtype="float32", always_2d=True)[0]
    expected = torch.from_numpy(decoded.mean(axis=1, dtype=np.float32))
    assert torch.equal(read_chunk(tmp_path / "pcm.wav", 1000, SR, start_s=0.125),
                       expected[1000:2000])
    assert torch.equal(read_audio(tmp_path / "pcm.wav", SR), expected)
    assert expected[0] == -1.0  # -32768 decodes to -1, as in libsndfile


def test_other_sample_rate_is_resampled(tmp_path):
    t = np.arange(16000 * 3) / 16000
    sf.write(tmp_path / "sine.wav", (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000,
             subtype="FLOAT")
    x = read_chunk(tmp_path / "sine.wav", 22050, 22050, rng=np.random.default_rng(0))
    assert x.shape == (22050,) and torch.isfinite(x).all()
    spectrum = np.abs(np.fft.rfft(x.numpy() * np.hanning(22050)))
    assert abs(np.argmax(spectrum) * 22050 / 22050 - 440) <= 1  # 1 Hz bins
    # Same numbers as torchaudio on the whole file, away from the chunk edges.
    full = torchaudio.functional.resample(torch.from_numpy(sf.read(tmp_path / "sine.wav",
                                                                    dtype="float32")[0]), 16000, 22050)
    y = read_chunk(tmp_path / "sine.wav", 22050, 22050, start_s=1.0)
    assert torch.allclose(y[200:-200], full[22050 + 200:2 * 22050 - 200], atol=1e-3)


def test_resampler_is_cached():
    assert get_resampler(16000, 22050) is get_resampler(16000, 22050)
    assert get_resampler(16000, 22050) is not get_resampler(44100, 22050)


def test_missing_file_names_the_file(tmp_path):
    path = tmp_path / "nope.wav"
    with pytest.raises(MissingAudioError, match="nope.wav"):
        read_chunk(path, 10, SR)
    with pytest.raises(FileNotFoundError):  # also a FileNotFoundError ...
        read_crops(path, 10, SR)
    with pytest.raises(ValueError):  # ... and a ValueError
        audio_info(path)


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00\x00\x00WAVEjunk" * 4, b"\x00" * 1000])
def test_corrupt_file_names_the_file(tmp_path, content):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioFileError, match="bad.wav"):
        read_chunk(path, 10, SR, rng=np.random.default_rng(0))


def test_empty_file_is_an_error(tmp_path):
    sf.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), SR)
    with pytest.raises(AudioFileError, match="empty.wav.*empty"):
        read_crops(tmp_path / "empty.wav", 10, SR)


def test_nan_and_inf_samples_are_rejected(tmp_path):
    for name, value in [("nan.wav", np.nan), ("inf.wav", np.inf)]:
        x = np.zeros(1000, dtype=np.float32)
        x[10] = value
        sf.write(tmp_path / name, x, SR, subtype="FLOAT")
        with pytest.raises(AudioFileError, match=f"{name}.*NaN or inf"):
            read_chunk(tmp_path / name, 1000, SR)


def test_bad_requests_name_the_parameter(tmp_path):
    path = ramp(tmp_path / "ramp.wav", 1000)
    with pytest.raises(ValueError, match="n_samples"):
        read_chunk(path, 0, SR)
    with pytest.raises(ValueError, match="sample_rate"):
        read_chunk(path, 10, 0)
    with pytest.raises(ValueError, match="max_crops"):
        read_crops(path, 10, SR, max_crops=0)


def test_crops_are_consecutive_and_capped(tmp_path):
    path = ramp(tmp_path / "ramp.wav", 3500)
    crops = read_crops(path, 1000, SR)
    assert crops.shape == (3, 1000)  # incomplete tail dropped
    assert np.array_equal(index_of(crops.flatten()), np.arange(3000))
    assert read_crops(path, 1000, SR, max_crops=2).shape == (2, 1000)
    short = read_crops(ramp(tmp_path / "short.wav", 400), 1000, SR)
    assert short.shape == (1, 1000) and torch.all(short[0, 400:] == 0)
    assert np.array_equal(index_of(short[0, :400]), np.arange(400))


def test_read_audio_limits_decoding(tmp_path):
    path = ramp(tmp_path / "ramp.wav", 5000, channels=2)
    assert read_audio(path, SR).shape == (5000,)
    assert np.array_equal(index_of(read_audio(path, SR, max_samples=123)), np.arange(123))


def test_mp3_chunks(tmp_path):
    t = np.arange(22050 * 3) / 22050
    sf.write(tmp_path / "a.mp3", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 22050,
             format="MP3")
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = read_chunk(tmp_path / "a.mp3", 22050 * 2, 22050, rng=rng)
        assert x.shape == (44100,) and torch.isfinite(x).all()
        assert x.abs().max() > 0.1 and x[-1000:].abs().max() > 0.1  # decoded, not padded


def test_iter_crops_skips_and_reports_bad_files(tmp_path):
    good = ramp(tmp_path / "good.wav", 2500)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    paths = [good, bad, tmp_path / "missing.wav", good]
    with pytest.raises(AudioFileError, match="bad.wav"):
        list(iter_crops(paths, 1000, SR))
    log = SkippedFiles()
    with pytest.warns(UserWarning) as record:
        out = list(iter_crops(paths, 1000, SR, skip_bad=True, skipped=log))
    assert [i for i, _ in out] == [0, 3]
    assert out[0][1].shape == (2, 1000)
    assert len(log) == 2 and log.count == 2 and "2 bad audio file(s)" in log.summary()
    messages = [str(w.message) for w in record]
    assert len(messages) == 2 and "bad.wav" in messages[0] and "missing.wav" in messages[1]
    with pytest.warns(UserWarning) as record:  # a summary when no log is passed
        assert len(list(iter_crops(paths, 1000, SR, skip_bad=True))) == 2
    assert "2 bad audio file(s) skipped" in str(record[-1].message)


def test_overstated_frame_count_moves_the_start_back(tmp_path, monkeypatch):
    # MP3 headers can promise more frames than decode; the chunk must not be padded then.
    path = ramp(tmp_path / "ramp.wav", 2000)
    true_info = audio_info(path)
    fake = audio.AudioInfo(true_info.path, 2600, SR, 1)
    monkeypatch.setattr(audio, "audio_info", lambda p: fake)
    rng = np.random.default_rng(0)
    for _ in range(20):
        idx = index_of(read_chunk(path, 1000, SR, rng=rng))
        assert np.array_equal(np.diff(idx), np.ones(999)) and idx[-1] < 2000


def test_skipped_files_warns_once_per_file(recwarn):
    log = SkippedFiles()
    log.add("a.wav", AudioFileError("a.wav broken"))
    log.add("a.wav", AudioFileError("a.wav broken"))
    assert len(recwarn) == 1 and log.count == 2 and len(log) == 1


def test_module_exports_exist():
    for name in audio.__all__:
        assert hasattr(audio, name)


def test_views_of_a_long_file_are_adjacent_crops_of_one_chunk(tmp_path):
    path = ramp(tmp_path / "long.wav", 10_000)
    views = read_views(path, 3, 500, SR, rng=np.random.default_rng(4))
    chunk = read_chunk(path, 1500, SR, rng=np.random.default_rng(4))
    assert views.shape == (3, 500) and torch.equal(views.reshape(-1), chunk)


def test_views_of_a_short_file_are_crops_inside_it_that_may_overlap(tmp_path):
    # NSynth-like: 1.5 views long. Views must hold audio (no padding) and keep time order.
    path = ramp(tmp_path / "short.wav", 750)
    starts = set()
    for seed in range(30):
        views = read_views(path, 2, 500, SR, rng=np.random.default_rng(seed))
        index = index_of(views)  # [2, 500] sample numbers
        assert views.shape == (2, 500)
        assert (np.diff(index, axis=1) == 1).all()  # each view is a contiguous crop of the file
        assert index.min() >= 0 and index.max() < 750 and index[0, 0] <= index[1, 0]
        starts.add(tuple(index[:, 0]))
    assert len(starts) > 10  # offsets are drawn, not fixed


def test_views_of_a_file_shorter_than_one_crop_are_padded_copies(tmp_path):
    path = ramp(tmp_path / "tiny.wav", 300)
    views = read_views(path, 2, 500, SR, rng=np.random.default_rng(0))
    assert torch.equal(views[0], views[1])
    assert (index_of(views[0, :300]) == np.arange(300)).all() and (views[0, 300:] == 0).all()


def test_a_macos_appledouble_sibling_does_not_break_an_mp3(tmp_path):
    from semisup.data.fixtures import music, write_mp3

    path = write_mp3(tmp_path / "a.mp3", music(np.random.default_rng(0), 1.0, 44100, 2), 44100, 128)
    (tmp_path / "._a.mp3").write_bytes(b"\x00\x05\x16\x07" + bytes(60))  # AppleDouble magic
    with pytest.raises(sf.LibsndfileError, match="bad data offset"):  # libsndfile's own reading
        sf.info(path)
    assert audio_info(path).frames == 44100
    assert read_chunk(path, 1000, 44100, start_s=0.5).abs().max() > 0
