"""The termination comparison's report: rewritten from its JSON rows (`--modes=` trains nothing), with the
per-mode summary over seeds and the verdict computed from hand-made rows whose statistics are known."""

import json
import subprocess
import sys

from tests.entry_points import ROOT


def _row(mode: str, seed: int, mean_iou: float, bias: float = 0.0) -> dict:
    return {"preset": "paper_t4", "T": 4, "num_direct": 4, "termination_training": mode,
            "termination_bias_init": bias, "seed": seed, "mean_iou": mean_iou, "mean_stop_step": 1.5,
            "stop_step_distribution": {"1": 0.5, "2": 0.5}, "images_per_second": 100.0, "images_seen": 128,
            "command": f"train {mode} {seed} {bias}", "machine": "test machine"}


def _report(tmp_path, rows: list[dict]) -> str:
    (tmp_path / "termination.json").write_text(json.dumps(rows))
    result = subprocess.run([sys.executable, "-m", "experiments.cosal_termination", "--modes=",
                             f"--output={tmp_path / 'termination'}"],
                            cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return (tmp_path / "termination.md").read_text()


def test_summary_and_verdict_from_rows(tmp_path):
    # gumbel: 0.50, 0.52 → mean 0.51, sd 0.0141, se 0.0100. reinforce: 0.60, 0.62 → +0.10 ± 0.0141.
    # A row with another gate bias is listed but kept out of the summary.
    rows = [_row("gumbel", 0, 0.50), _row("gumbel", 1, 0.52), _row("reinforce", 0, 0.60),
            _row("reinforce", 1, 0.62), _row("gumbel", 0, 0.90, bias=-2.0)]
    report = _report(tmp_path, rows)
    assert "| gumbel | 2 | 0.5100 | 0.0141 | 0.0100 | 1.50 |" in report
    assert "| reinforce | 2 | 0.6100 | 0.0141 | 0.0100 | 1.50 |" in report
    assert "+0.1000 ± 0.0141" in report and "`reinforce` is measurably better" in report
    assert "| gumbel | -2 | 0 | 0.9000 |" in report and "train gumbel 0 -2.0" in report

    # reinforce 0.50, 0.54 → +0.0100 ± 0.0224 (se 0.0200 and 0.0100): within two standard errors.
    rows[2:4] = [_row("reinforce", 0, 0.50), _row("reinforce", 1, 0.54)]
    report = _report(tmp_path, rows)
    assert "+0.0100 ± 0.0224" in report and "no mode is measurably better and the default stays" in report

    # One seed of the best mode: no spread to judge by.
    report = _report(tmp_path, rows[:3] + [_row("marginal", 0, 0.70)])
    assert "`marginal`'s (+0.1900), from one seed" in report and "| marginal | 1 | 0.7000 | – | – |" in report
