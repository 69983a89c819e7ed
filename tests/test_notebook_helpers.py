import pytest

from semisup.notebook import as_list


def test_as_list_accepts_shell_forms():
    assert as_list(["a"], "x") == ["a"]
    assert as_list("tags", "x") == ["tags"]
    assert as_list("tags, key", "x") == ["tags", "key"]
    assert as_list("[0, 1, 2]", "seeds") == [0, 1, 2]
    with pytest.raises(ValueError, match="seeds"):
        as_list([], "seeds")
