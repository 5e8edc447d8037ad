"""A generated CoSaL example feeds `lbie-edit --text_file` directly, with the shipped pretrained model."""

import numpy as np
from PIL import Image

from lbie_tf.cli import edit
from lbie_tf.cli.cosal_example import write_example


def test_generated_example_runs_through_lbie_edit(tmp_path):
    pairs = write_example(str(tmp_path), index=2)
    sketch = np.asarray(Image.open(tmp_path / "cosal_sketch.png"))
    assert sketch.shape == (48, 48, 3) and set(np.unique(sketch)) <= {0, 255}
    line = open(pairs, encoding="utf-8").read().strip()
    assert line.startswith("cosal_sketch.png:") and line.count(". ") == 8
    (tmp_path / "out").mkdir()  # lbie-edit refuses a missing output folder
    assert edit.main(["lbie-edit", f"--text_file={pairs}", f"--out={tmp_path / 'out'}"]) == 0
    result = np.asarray(Image.open(tmp_path / "out" / "cosal_sketch_line1.png"))
    assert result.shape == (48, 48, 3)
    # The shipped model paints the shapes and leaves the background white.
    background = np.all(sketch == 255, axis=-1)
    assert np.mean(np.all(result[background] == 255, axis=-1)) > 0.9
