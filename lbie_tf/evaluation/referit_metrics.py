"""ReferIt metrics as Hu et al. compute them (text_objseg's ReferIt test script; docs/data_and_metrics.md):
overall IoU and precision@threshold, and the paper's Table 3 to compare with."""

from __future__ import annotations

from typing import Any

import numpy as np

PRECISION_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


# Paper Table 3 (ReferIt test): precision@0.5..0.9 and overall IoU, in %.
PAPER_TABLE3 = (
    ("SCRC bbox [10]", (9.73, 4.43, 1.51, 0.27, 0.03), 21.72),
    ("GroundeR bbox [5]", (11.08, 6.20, 2.74, 0.78, 0.20), 20.50),
    ("Hu, etc. [9]", (34.02, 26.71, 19.32, 11.63, 3.92), 48.03),
    ("Our model (paper)", (32.53, 27.90, 18.76, 12.37, 4.37), 50.09),
)


def intersection_union(prediction: Any, target: Any) -> tuple[int, int]:
    """`(I, U)` pixel counts of two same-shaped masks (any dtype; non-zero = inside), as Hu et al.'s
    `compute_mask_IU`: I = Σ(p ∧ t), U = Σ(p ∨ t)."""
    prediction, target = np.asarray(prediction), np.asarray(target)
    if prediction.shape != target.shape:
        raise ValueError(f"prediction {prediction.shape} and target {target.shape} differ in shape")
    prediction, target = prediction.astype(bool), target.astype(bool)
    return int(np.sum(prediction & target)), int(np.sum(prediction | target))


class ReferitScore:
    """Accumulates per-expression intersections and unions; reports Hu et al.'s ReferIt metrics.

    - overall IoU = Σ_e I_e / Σ_e U_e over all expressions e (cumulative: large objects weigh more);
    - precision@t = (number of expressions with I_e / U_e ≥ t) / (number of expressions);
    - mean IoU = the average of I_e / U_e (a separate number, not in the paper).
    An expression with U_e = 0 (empty prediction and empty ground truth; the dataset builder skips empty
    masks, so only possible on other data) has no IoU: as in Hu et al. (NaN ≥ t is false) it counts as a miss
    in every precision and adds nothing to the overall IoU; it is left out of the mean IoU and counted.
    """

    def __init__(self, thresholds=PRECISION_THRESHOLDS):
        self.thresholds = tuple(thresholds)
        self.intersections: list[int] = []
        self.unions: list[int] = []

    def add(self, intersection: int, union: int) -> ReferitScore:
        if not 0 <= intersection <= union:
            raise ValueError(f"need 0 <= intersection <= union, got I={intersection}, U={union}")
        self.intersections.append(int(intersection))
        self.unions.append(int(union))
        return self

    def update(self, prediction: Any, target: Any) -> ReferitScore:
        """Adds one expression's prediction and ground-truth masks (same shape, original resolution)."""
        return self.add(*intersection_union(prediction, target))

    def report(self) -> dict[str, Any]:
        """{"overall_iou", "mean_iou", "precision": {"0.5": ..}, "num_expressions", "num_empty_unions",
        "cumulative_intersection", "cumulative_union"} (fractions in [0, 1]; None where undefined)."""
        intersections = np.asarray(self.intersections, np.int64)
        unions = np.asarray(self.unions, np.int64)
        count = len(unions)
        defined = unions > 0
        iou = np.where(defined, intersections / np.maximum(unions, 1), np.nan)
        total_union = int(unions.sum())
        return {
            "overall_iou": float(intersections.sum() / total_union) if total_union else None,
            "mean_iou": float(iou[defined].mean()) if defined.any() else None,
            "precision": {f"{t:g}": (float(np.sum(defined & (iou >= t)) / count) if count else None)
                          for t in self.thresholds},
            "num_expressions": count,
            "num_empty_unions": int(count - defined.sum()),
            "cumulative_intersection": int(intersections.sum()),
            "cumulative_union": total_union,
        }


def format_table3(report: dict[str, Any], name: str = "lbie-tf (this run)") -> str:
    """A Markdown table laid out as the paper's Table 3 (values in %), the paper's rows first and this run's
    row (from `ReferitScore.report()`) last."""
    def percent(value):
        return "–" if value is None else f"{100 * value:.2f}%"

    header = "| Model | " + " | ".join(f"Precision@{t:g}" for t in PRECISION_THRESHOLDS) + " | IoU |"
    lines = [header, "|" + "---|" * (len(PRECISION_THRESHOLDS) + 2)]
    for row_name, precisions, iou in PAPER_TABLE3:
        lines.append(f"| {row_name} | " + " | ".join(f"{p:.2f}%" for p in precisions) + f" | {iou:.2f}% |")
    ours = [percent(report["precision"].get(f"{t:g}")) for t in PRECISION_THRESHOLDS]
    lines.append(f"| {name} | " + " | ".join(ours) + f" | {percent(report['overall_iou'])} |")
    return "\n".join(lines)
