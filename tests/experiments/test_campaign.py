"""Campaign cells: names, flagfile parsing, the training command, result rows, merging."""

import json

import pytest

from experiments import campaign
from lbie_tf.errors import ConfigError


def test_cells_of_the_shipped_presets():
    cell = campaign.Cell("paper_t4", 6, "legacy", seed=2, variant="marginal",
                         extra_flags=("--termination_training=marginal", "--nosentence_bidirectional"))
    assert cell.name == "paper_t4-marginal-legacy-nd6-seed2"
    model, training = campaign.cell_configs(cell)
    assert model.steps == 4 and training.termination_training == "marginal"
    assert model.sentence_bidirectional is False and model.attention is True  # the rest from the preset
    budget = campaign.Budget(images=1000, seconds=90, test_size=500, eval_every=10)
    assert campaign.train_steps(cell, budget) == 16  # 1000 images in batches of 64, rounded up
    argv = campaign.command(cell, budget, "runs/x")
    for flag in ("--flagfile=configs/cosal_paper_t4.cfg", "--num_direct=6", "--cosal_legacy_captions", "--seed=2",
                 "--termination_training=marginal", "--train_steps=16", "--train_seconds=90",
                 "--cosal_test_size=500", "--eval_every=10", "--model_dir=runs/x"):
        assert flag in argv, flag
    # the cell's flags come after the flagfile, so they override it
    assert argv.index("--termination_training=marginal") > argv.index("--flagfile=configs/cosal_paper_t4.cfg")


def test_bad_cells_are_refused():
    with pytest.raises(ConfigError, match="captions"):
        campaign.Cell("paper_t1", 4, "random")
    with pytest.raises(ConfigError, match="variant"):
        campaign.Cell("paper_t1", 4, extra_flags=("--steps=2",))


def test_result_row_and_merge(tmp_path):
    cell = campaign.Cell("paper_t1_noattention", 8)
    budget = campaign.Budget(images=640)
    report = {"mean_iou": 0.5, "per_class_iou": {"background": 0.9}, "num_images": 10000, "images_seen": 640,
              "train_seconds": 3.2, "mean_stop_step": 1.0, "stop_step_distribution": {"1": 1.0}}
    row = campaign.result_row(cell, budget, report, ["python", "x.py"], [], None)
    assert (row["T"], row["attention"], row["num_direct"], row["captions"]) == (1, False, 8, "determined")
    assert row["images_per_second"] == 200.0 and row["command"] == "python x.py"
    other = dict(row, num_direct=4)
    better = dict(row, mean_iou=0.6)
    merged = campaign.merge_rows([row, other], [better])
    assert sorted((r["num_direct"], r["mean_iou"]) for r in merged) == [(4, 0.5), (8, 0.6)]
    path = tmp_path / "results" / "rows.json"
    campaign.save_rows(str(path), merged)
    assert campaign.load_rows(str(path)) == json.loads(path.read_text())
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["rows.json"]  # no temporary left
    assert campaign.load_rows(str(tmp_path / "none.json")) == []
