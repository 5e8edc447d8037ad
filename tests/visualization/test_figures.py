"""Tests of the Pillow figures: colours, upscaling and the panel layout of saved PNGs."""

import numpy as np
import pytest
from PIL import Image

from lbie_tf.visualization.figures import (
    GAP,
    MARGIN,
    STOP_STEP_COLORS,
    colorize_labels,
    figure_layout,
    save_example_figure,
    stop_step_image,
)

PALETTE = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0]], np.uint8)


def test_colorize_labels():
    labels = np.array([[0, 1], [2, 1]])
    image = colorize_labels(labels, PALETTE)
    assert image.dtype == np.uint8 and image.shape == (2, 2, 3)
    np.testing.assert_array_equal(image[1, 0], [0, 255, 0])
    with pytest.raises(ValueError, match="must lie in \\[0, 3\\)"):
        colorize_labels(np.array([[3]]), PALETTE)


def test_stop_step_image_paints_blocks():
    steps = np.array([[0, 1, 2], [3, 3, 0], [1, 1, 1]])
    image = stop_step_image(steps, num_steps=4, size=48)
    assert image.dtype == np.uint8 and image.shape == (48, 48, 3)
    for i in range(3):
        for j in range(3):
            block = image[16 * i:16 * (i + 1), 16 * j:16 * (j + 1)]
            assert (block == STOP_STEP_COLORS[steps[i, j]]).all()
    assert len({tuple(c) for c in STOP_STEP_COLORS}) == len(STOP_STEP_COLORS)  # distinct
    with pytest.raises(ValueError):
        stop_step_image(steps, num_steps=3, size=48)  # step 3 needs T >= 4


def solid(color, h, w):
    return np.broadcast_to(np.array(color, np.uint8), (h, w, 3)).copy()


def test_figure_is_a_png_with_panels_in_place(tmp_path):
    panels = [("in", solid((255, 0, 0), 6, 6)), ("out", solid((0, 0, 255), 6, 8)),
              ("gray", np.full((6, 6), 128, np.uint8))]
    caption = ["1. a red circle is left of a blue square", "2. a green triangle"]
    path = save_example_figure(str(tmp_path / "figs" / "example.png"), panels, caption, scale=4)

    with Image.open(path) as png:
        assert png.format == "PNG"
        figure = np.asarray(png.convert("RGB"))
    layout = figure_layout([(24, 24), (32, 24), (24, 24)], [t for t, _ in panels], caption)
    assert (figure.shape[1], figure.shape[0]) == layout.size
    assert layout.panel_origins[0][0] == MARGIN
    assert layout.panel_origins[1][0] == MARGIN + 24 + GAP  # titles narrower than the panels
    for (x, y), (w, h), color in zip(layout.panel_origins, [(24, 24), (32, 24), (24, 24)],
                                     [(255, 0, 0), (0, 0, 255), (128, 128, 128)]):
        assert (figure[y:y + h, x:x + w] == color).all()
        assert (figure[y + h, x:x + w] == 255).all() and (figure[y:y + h, x + w] == 255).all()
    assert (figure[:MARGIN // 2] == 255).all()  # white background at the top edge
    assert (figure[:layout.panel_origins[0][1], MARGIN:MARGIN + 24] < 128).any()  # a title is drawn
    assert (figure[layout.caption_top:] < 128).any()  # caption text is drawn
    width_of_caption = layout.size[0] - 2 * MARGIN
    assert width_of_caption > 24 + 32 + 24 + 2 * GAP  # the long caption line sets the width


def test_figure_with_stop_step_legend(tmp_path):
    steps = np.array([[0, 1], [2, 3]])
    panels = [("stop step (1..4)", stop_step_image(steps, 4, 8))]
    path = save_example_figure(str(tmp_path / "legend.png"), panels, [], scale=2, legend_steps=4)
    figure = np.asarray(Image.open(path).convert("RGB"))
    layout = figure_layout([(16, 16)], [panels[0][0]], [], [f"step {t}" for t in range(1, 5)])
    assert (figure.shape[1], figure.shape[0]) == layout.size
    legend_row = figure[layout.legend_top:layout.legend_top + 10].reshape(-1, 3)
    for color in STOP_STEP_COLORS[:4]:
        assert (legend_row == color).all(axis=1).sum() >= 100  # a 10 × 10 swatch per step


def test_figure_rejects_float_panels(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        save_example_figure(str(tmp_path / "x.png"), [("x", np.zeros((4, 4, 3)))], [])


def test_direct_attention_counts_match_a_brute_force_count():
    from experiments.figure5 import direct_attention_counts

    rng = np.random.default_rng(0)
    attention = rng.random((3, 4, 2, 2, 9))  # [batch, T, m, n, sentences]
    stop_step = rng.integers(0, 4, (3, 2, 2))
    counts = direct_attention_counts(attention, stop_step, num_direct=4)
    expected = np.zeros((4, 4), np.int64)
    for b in range(3):
        for t in range(4):
            for i in range(2):
                for j in range(2):
                    direct = int(np.argmax(attention[b, t, i, j]) < 4)
                    active = int(t <= stop_step[b, i, j])
                    expected[t] += [1, direct, active, direct * active]
    np.testing.assert_array_equal(counts, expected)


def test_attention_figure_colours_the_sentence_attended_at_each_step(tmp_path):
    from experiments.figure5 import (
        attended_sentence_by_step,
        direct_attention_map,
        save_attention_figure,
    )
    from lbie_tf.visualization.figures import (
        ATTENDED_STEP_COLORS,
        DIRECT_COLOR,
        RELATIONAL_COLOR,
    )

    attention = np.zeros((3, 2, 2, 9))
    attention[0, :, :, 1] = 1.0  # step 1: every region on sentence 2 (direct)
    attention[1, :, :, 6] = 1.0  # step 2: sentence 7 (relational)
    attention[2, 0, :, 6] = 1.0  # step 3: half the regions on sentence 7, half on sentence 1
    attention[2, 1, :, 0] = 0.9
    np.testing.assert_array_equal(attended_sentence_by_step(attention), [1, 6, 6])
    step_map = direct_attention_map(attention[2], num_direct=4, size=4)
    assert (step_map[:2] == RELATIONAL_COLOR).all() and (step_map[2:] == DIRECT_COLOR).all()

    image = np.zeros((48, 48, 3), np.uint8)
    sentences = [f"sentence {k}" for k in range(9)]
    path = save_attention_figure(str(tmp_path / "f5.png"), image, image, attention, sentences, num_direct=4,
                                 size=32)
    figure = np.asarray(Image.open(path).convert("RGB")).astype(float)
    caption = figure[70:].reshape(-1, 3)  # below the 32-pixel panels and their titles

    def has_text_in(color):  # anti-aliased text on white: white + alpha * (color - white), alpha > 0.5
        direction = np.asarray(color, float) - 255
        alpha = (caption - 255) @ direction / (direction @ direction)
        residual = np.linalg.norm(caption - 255 - alpha[:, None] * direction, axis=1)
        return bool(np.any((alpha > 0.5) & (residual < 12)))

    assert has_text_in(ATTENDED_STEP_COLORS[0])  # sentence 2, attended at step 1: red
    assert has_text_in(ATTENDED_STEP_COLORS[1])  # sentence 7, first attended at step 2: yellow
    assert not has_text_in(ATTENDED_STEP_COLORS[2])  # step 3 attends sentence 7 again: no green
    assert has_text_in((0, 0, 0))  # the other sentences
    with pytest.raises(ValueError, match="caption colours"):
        save_example_figure(str(tmp_path / "x.png"), [("a", image)], ["one line"], caption_colors=[])
