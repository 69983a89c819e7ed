"""Every CLI turns a user error into one ``prog: error: …`` line and exit status 2 (semisup.cli)."""

import importlib
import os
import re
import subprocess
import sys

import pytest

from semisup import cli

# (module, arguments, a fragment of the message): one bad input per CLI, each failing before any work.
BAD_INPUTS = {
    "semisup.train": (["--run-dir", "r", "--labeled", "mtat:/nonexistent", "--steps", "1"], "/nonexistent is not a directory"),
    "semisup.evaluate": (["--random-init", "small", "--task", "mtat:/nonexistent"], "/nonexistent is not a directory"),
    "semisup.embed": (["--random-init", "small", "/nonexistent", "--out", "x.npz"], "neither a folder, a file nor a dataset spec"),
    "semisup.data.prepare": (["mtat:/nonexistent", "--out", "prepared"], "/nonexistent is not a directory"),
    "semisup.export": (["notarun", "out"], "notarun/config.json not found"),
    "semisup.sweep": (["absent.yaml"], "grid file absent.yaml not found"),
    "semisup.results": (["--pitch", "bogus:/x", "--out", "res"], "--pitch 'bogus:/x': unknown dataset kind 'bogus'"),
    "semisup.demo": (["--pitch-bs", "1.5"], "--pitch-bs 1.5: bs=1.5: must be a fraction in [0, 1]"),
    "semisup.data.embedded.build": (["--size", "tiny", "--out", "b", "--sample-rate", "100"], "sample_rate must be"),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Run every CLI with its bad input at once (they only import and fail); keep each result and folder."""
    started = {}
    for module, (args, _) in BAD_INPUTS.items():
        folder = tmp_path_factory.mktemp(module)
        started[module] = folder, subprocess.Popen([sys.executable, "-m", module, *args], cwd=folder,
                                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {}
    for module, (folder, process) in started.items():
        out, err = process.communicate(timeout=300)
        results[module] = process.returncode, err, folder
    return results


@pytest.mark.parametrize("module", list(BAD_INPUTS))
def test_a_user_error_is_one_line_and_status_2(outcomes, module):
    status, stderr, folder = outcomes[module]
    assert status == 2, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert stderr.startswith(f"python -m {module}: error: ") and BAD_INPUTS[module][1] in stderr, stderr
    assert list(folder.iterdir()) == []  # nothing written


def test_semisup_debug_shows_the_traceback(tmp_path):
    args, fragment = BAD_INPUTS["semisup.train"]
    done = subprocess.run([sys.executable, "-m", "semisup.train", *args], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "SEMISUP_DEBUG": "1"}, timeout=300)
    assert done.returncode == 1 and "Traceback" in done.stderr and fragment in done.stderr


def test_run_exits_2_on_user_errors_and_lets_bugs_raise(capsys):
    def bad_value(argv):
        raise ValueError("line one\n  line two")

    def missing(argv):
        raise FileNotFoundError("data/x not found")

    def bug(argv):
        raise TypeError("unsupported operand")

    for main, line in ((bad_value, "prog: error: line one line two\n"), (missing, "prog: error: data/x not found\n")):
        with pytest.raises(SystemExit) as exit_info:
            cli.run(main, "prog")
        assert exit_info.value.code == 2 and capsys.readouterr().err == line
    with pytest.raises(TypeError, match="unsupported operand"):
        cli.run(bug, "prog")
    with pytest.raises(SystemExit) as exit_info:
        cli.run(lambda argv: None, "prog")
    assert exit_info.value.code == 0


@pytest.mark.parametrize("module", list(BAD_INPUTS))
def test_a_rejected_flag_is_one_line_too(module, capsys):
    """argparse's own errors (unknown flag, bad type) use the same one-line form, pointing to --help."""
    main = importlib.import_module(module).main
    with pytest.raises(SystemExit) as exit_info:
        main(["--no-such-flag", "1"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1, err
    assert re.fullmatch(rf"python -m {re.escape(module)}: error: .+ \(see python -m {re.escape(module)} --help\)\n", err)


def test_a_bad_flag_type_names_the_flag(capsys):
    from semisup import train

    with pytest.raises(SystemExit):
        train.main(["--steps", "abc"])
    assert capsys.readouterr().err == ("python -m semisup.train: error: argument --steps: invalid int value: 'abc' "
                                       "(see python -m semisup.train --help)\n")
