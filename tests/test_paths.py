import os
from pathlib import Path

import pytest

from semisup.paths import atomic_write, repo_path, repo_root


def test_repo_root_found_from_subfolders(monkeypatch):
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root / "notebooks")
    assert repo_root() == root
    assert repo_path("data/small") == root / "data" / "small"
    assert repo_path("/abs/x") == Path("/abs/x")



def test_atomic_write_replaces_whole_files_with_plain_permissions(tmp_path):
    def fail_halfway(tmp):
        Path(tmp).write_text("half")
        raise RuntimeError("boom")

    umask = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "sub" / "a.txt", lambda tmp: Path(tmp).write_text("one"))
        assert path.read_text() == "one" and (path.stat().st_mode & 0o777) == 0o644
        with pytest.raises(RuntimeError, match="boom"):
            atomic_write(path, fail_halfway)
        assert path.read_text() == "one" and os.listdir(path.parent) == ["a.txt"]
    finally:
        os.umask(umask)
