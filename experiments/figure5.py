"""The paper's Figure 5 from a model's attention: which sentence each region attends to at each fusion step,
counted over a test set and drawn for one example."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from lbie_tf.visualization.figures import (
    _BLACK,
    ATTENDED_STEP_COLORS,
    DIRECT_COLOR,
    RELATIONAL_COLOR,
    _resize,
    colorize_labels,
    save_example_figure,
)


def attended_sentence_by_step(attention: np.ndarray) -> np.ndarray:
    """The sentence attended to at each fusion step, as the paper's Figure 5 picks it: the one with the
    largest attention score, here averaged over the regions.

    Args:
        attention: float `[T, m, n, sentences]`, one example's attention weights.

    Returns:
        int `[T]`, the attended sentence index per step.
    """
    return np.argmax(np.asarray(attention).mean(axis=(1, 2)), axis=-1)


def direct_attention_counts(attention: np.ndarray, stop_step: np.ndarray, num_direct: int) -> np.ndarray:
    """Per fusion step, how many regions attend (most) to a direct sentence, over all regions and over the
    regions still active (not yet stopped) at that step. CoSaL captions list the `num_direct` direct
    sentences first.

    Args:
        attention: float `[batch, T, m, n, sentences]`.
        stop_step: int `[batch, m, n]`, each region's 0-based stop step.
        num_direct: number of direct sentences (the first ones).

    Returns:
        int64 `[T, 4]`: columns (regions, regions attending a direct sentence, active regions, active
        regions attending a direct sentence). Sum over batches, then divide column 1 by 0 and 3 by 2.
    """
    attention = np.asarray(attention)
    steps = attention.shape[1]
    direct = np.argmax(attention, axis=-1) < num_direct  # [batch, T, m, n]
    active = np.arange(steps)[None, :, None, None] <= np.asarray(stop_step)[:, None]  # [batch, T, m, n]
    counts = [np.ones_like(direct).sum(axis=(0, 2, 3)), direct.sum(axis=(0, 2, 3)),
              active.sum(axis=(0, 2, 3)), (direct & active).sum(axis=(0, 2, 3))]
    return np.stack(counts, axis=-1).astype(np.int64)


def direct_attention_map(attention_step: np.ndarray, num_direct: int, size: int) -> np.ndarray:
    """Paints each region `DIRECT_COLOR` or `RELATIONAL_COLOR` by the kind of sentence it attends to most.

    Args:
        attention_step: float `[m, n, sentences]`, one step's attention of one example.
        num_direct: number of direct sentences (the first ones).
        size: output side in pixels.

    Returns:
        uint8 `[size, size, 3]`.
    """
    relational = (np.argmax(attention_step, axis=-1) >= num_direct).astype(np.int32)
    small = colorize_labels(relational, np.array([DIRECT_COLOR, RELATIONAL_COLOR], np.uint8))
    return np.asarray(Image.fromarray(small).resize((size, size), Image.NEAREST))


def save_attention_figure(path: str, ground_truth: np.ndarray, prediction: np.ndarray, attention: np.ndarray,
                          sentences: Sequence[str], num_direct: int, size: int = 144) -> str:
    """The paper's Figure 5 for one example: the caption with the sentence attended at step 1, 2, 3, …
    coloured red, yellow, green, …, beside the ground truth, the prediction, and per step a map of which
    regions attend to a direct (red) or relational (blue) sentence.

    Args:
        path: output PNG.
        ground_truth, prediction: uint8 `[H, W, 3]` coloured class maps.
        attention: float `[T, m, n, sentences]`.
        sentences: the caption's sentences, direct ones first.
        num_direct: how many sentences are direct.
        size: side of each panel in pixels.

    Returns:
        `path`.
    """
    steps = attention.shape[0]
    if steps > len(ATTENDED_STEP_COLORS):
        raise ValueError(f"at most {len(ATTENDED_STEP_COLORS)} steps can be coloured, got {steps}")
    attended = attended_sentence_by_step(attention)
    panels = [("ground truth", _resize(ground_truth, size)), ("prediction", _resize(prediction, size))]
    panels += [(f"step {t + 1}: red direct, blue relational", direct_attention_map(attention[t], num_direct, size))
               for t in range(steps)]
    lines, colors = [], []
    for k, sentence in enumerate(sentences):
        steps_here = [t for t in range(steps) if attended[t] == k]
        kind = "direct" if k < num_direct else "relational"
        mark = f"  <- attended at step {', '.join(str(t + 1) for t in steps_here)}" if steps_here else ""
        lines.append(f"{k + 1}. {sentence} ({kind}){mark}")
        colors.append(ATTENDED_STEP_COLORS[steps_here[0]] if steps_here else _BLACK)
    return save_example_figure(path, panels, lines, scale=1, caption_colors=colors)
