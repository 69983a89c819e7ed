"""The paper's tables as data (semisup.paper)."""

from semisup.paper import table3_pitch, table4, table7


def test_table7_pairs_are_the_self_supervised_and_supervised_scores():
    scores = table7().query("n_views == 2").pivot(index="setting", columns="metric", values="value")
    assert set(scores.index) == {"self-supervised", "supervised"}
    # 88.4 is Table 3's SSL MTAT AUROC; 90.1 Table 4's supervised C = 1 AUROC.
    ssl_auroc = table3_pitch().query("model == 'SSL' and task == 'tags auroc'")["value"].item()
    sl_auroc = table4().query("criterion == '1' and setting == 'supervised' and metric == 'auroc'")["value"].item()
    assert scores.loc["self-supervised", "auroc"] == ssl_auroc == 88.4 and scores.loc["self-supervised", "ap"] == 40.1
    assert scores.loc["supervised", "auroc"] == sl_auroc == 90.1 and scores.loc["supervised", "ap"] == 44.1
