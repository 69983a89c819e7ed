import pytest

from semisup.data.spec import DatasetSpec, load_spec, parse_spec
from semisup.paths import repo_root


@pytest.mark.parametrize("text", [
    "mtat:/data/MTAT?subset=top50",
    "mtat:/data/MTAT?subset=all&missing=drop&audio_dir=/mnt/mtat_audio",
    "nsynth:/data/nsynth?label=pitch",
    "fma:/data/fma",
    "fma:/data/fma?extensions=.mp3,.wav",
    "giantsteps:/data/gs?valid_fraction=0.171&seed=3",
    "emomusic:/data/emo?standardize=false",
    "embedded:data/small?task=notes&label=pitch",
    "jamendo:/data/mtg-jamendo-dataset?subset=moodtheme&split_index=0&audio_dir=/data/jamendo_audio",
])
def test_a_parsed_spec_prints_back_to_the_same_string(text):
    spec = parse_spec(text)
    assert str(spec) == text
    assert parse_spec(str(spec)) == spec


def test_options_are_typed_by_the_loader_signature():
    spec = parse_spec("giantsteps:/d?valid_fraction=0.171&seed=3")
    assert spec.kwargs() == {"valid_fraction": 0.171, "seed": 3}
    assert parse_spec("emomusic:/d?standardize=false").kwargs() == {"standardize": False}
    assert parse_spec("fma:/d?extensions=.mp3,.wav").kwargs() == {"extensions": (".mp3", ".wav")}
    assert parse_spec("giantsteps:/d?valid_fraction=1").kwargs() == {"valid_fraction": 1.0}
    assert parse_spec("mtat:/d?audio_ext=wav").get("audio_ext") == "wav"
    assert parse_spec("mtat:/d").get("subset", "top50") == "top50"
    # An optional number (vocalset's valid_fraction: float | None, default per label) is a number.
    assert parse_spec("vocalset:/d?valid_fraction=0.2").kwargs() == {"valid_fraction": 0.2}


@pytest.mark.parametrize("text, message", [
    ("mtat2:/d", r"unknown dataset kind 'mtat2'; choose one of \[.*'mtat'.*'prepared'"),
    ("mtat:/d?subsett=top50", r"mtat has no option 'subsett'; its options are \[.*'subset'"),
    ("giantsteps:/d?seed=abc", r"seed='abc' must be a int"),
    ("emomusic:/d?standardize=1", r"standardize='1' must be a bool"),
    ("vocalset:/d?valid_fraction=abc", r"valid_fraction='abc' must be a float \(default None\)"),
    ("mtat:/d?subset", r"option 'subset' must be KEY=VALUE"),
    ("mtat:/d?subset=top50&subset=all", r"given twice"),
    ("mtat:", r"no ROOT"),
    ("/data/MTAT", r"must look like KIND:ROOT"),
])
def test_bad_specs_are_errors_that_list_what_is_valid(text, message):
    with pytest.raises(ValueError, match=message):
        parse_spec(text)


def test_relative_roots_resolve_against_the_repository_and_slugs_name_runs():
    spec = parse_spec("embedded:data/small?task=notes&label=pitch")
    assert spec.path == repo_root() / "data" / "small"
    assert spec.slug == "notes-pitch"
    assert parse_spec("mtat:/data/MTAT?subset=top50&audio_dir=/x").slug == "mtat-top50"
    assert parse_spec("prepared:/data/fma_22k").slug == "fma_22k"
    assert spec.replace(label=None, task="tags") == DatasetSpec("embedded", "data/small", (("task", "tags"),))


def test_load_spec_loads_the_embedded_benchmark(tiny_data):
    dataset = load_spec(f"embedded:{tiny_data}?task=notes&label=pitch")
    assert dataset.name == "embedded-notes-pitch" and dataset.task_type == "multiclass"
    assert dataset.info["spec"] == f"embedded:{tiny_data}?task=notes&label=pitch"
    with pytest.raises(ValueError, match="task=None is not in"):
        load_spec(f"embedded:{tiny_data}")
