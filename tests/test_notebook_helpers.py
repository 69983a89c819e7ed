import pytest

from semisup.notebook import as_list


def test_as_list_accepts_shell_forms():
    assert as_list(["a"], "x") == ["a"]
    assert as_list("tags", "x") == ["tags"]
    assert as_list("tags, key", "x") == ["tags", "key"]
    assert as_list("[0, 1, 2]", "seeds") == [0, 1, 2]
    with pytest.raises(ValueError, match="seeds"):
        as_list([], "seeds")


def test_save_table(tmp_path):
    import pandas as pd

    from semisup.notebook import save_table

    assert save_table(pd.DataFrame({"a": [1]}), "", "x.csv") is None
    path = save_table(pd.DataFrame({"a": [1]}), tmp_path / "out", "x.csv")
    assert pd.read_csv(path)["a"].tolist() == [1]
