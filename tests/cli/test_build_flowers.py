"""`python -m lbie_tf.cli.build_flowers` builds both split schemes from a fixture, or prints a one-line error."""

from lbie_tf.cli import build_flowers
from tests.datasets.flowers_fixture import write_flowers_fixture


def test_builds_both_split_schemes(tmp_path, capsys):
    manual = write_flowers_fixture(str(tmp_path), images_per_class=1)
    assert build_flowers.main(["build_flowers", f"--manual_dir={manual}", f"--data_dir={tmp_path / 'data'}"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if " images in " in line]  # TFDS prints too
    assert len(lines) == 2 and lines[0].startswith("class_disjoint: train 3 / validation 1 / test 2 images in ")
    assert lines[1].startswith("official: train 2 / validation 2 / test 2 images in ")


def test_missing_files_give_one_error_line(tmp_path, capsys):
    (tmp_path / "manual").mkdir()
    assert build_flowers.main(["build_flowers", f"--manual_dir={tmp_path / 'manual'}",
                               f"--data_dir={tmp_path / 'data'}", "--split_schemes=class_disjoint"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("error: the Flowers manual dir")
    assert "102flowers.tgz" in error and "imagelabels.mat" in error and "setid.mat" not in error
    assert build_flowers.main(["build_flowers"]) == 2
