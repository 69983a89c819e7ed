from pathlib import Path

from semisup.paths import repo_path, repo_root


def test_repo_root_found_from_subfolders(monkeypatch):
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root / "notebooks")
    assert repo_root() == root
    assert repo_path("data/small") == root / "data" / "small"
    assert repo_path("/abs/x") == Path("/abs/x")
