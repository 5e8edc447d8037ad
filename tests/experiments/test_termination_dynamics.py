"""The termination-dynamics report: collapse and lowest-CE steps, and the rendered explanation, from rows."""

from experiments import termination_dynamics as dynamics


def _row(step, beta, ce, logit=1.0, gradient=1e-3):
    return {"step": step, "beta": beta, "cross_entropy": ce, "gate_logit_mean": [0.0] * 4,
            "gate_logit_abs_max": logit, "state_norm": [1.0, 2.0, 3.0, 4.0], "gate_gradient_norm": gradient,
            "inference_stop_share": [1.0, 0.0, 0.0, 0.0]}


ROWS = [_row(0, [0.5, 0.25, 0.125, 0.125], [1.9, 1.9, 1.9, 1.9], 0.1, 1e-2),
        _row(10, [0.95, 0.05, 0.0, 0.0], [1.5, 1.8, 2.0, 2.1]),  # β_1 ≥ 0.9 here, but not at step 20
        _row(20, [0.8, 0.1, 0.05, 0.05], [1.6, 1.5, 2.0, 2.1]),  # step 2 lower: step 1 no longer lowest
        _row(30, [0.97, 0.03, 0.0, 0.0], [1.4, 1.8, 2.0, 2.1]),
        _row(40, [1.0, 0.0, 0.0, 0.0], [1.3, 3.0, 5.0, 9.0], 40.0, 1e-9)]
ENTRY = {"variant": "paper", "flagfile": "configs/cosal_paper_t4.cfg", "extra_flags": [], "seed": 0, "steps": 4,
         "batch_size": 64, "gate_warmup_steps": 0, "probe_size": 8, "log_every": 10, "train_steps": 40,
         "rows": ROWS}


def test_collapse_and_lowest_steps_are_the_starts_of_the_last_runs():
    assert dynamics.collapse_step(ROWS) == 30
    assert dynamics.first_lowest_step(ROWS, 0) == 30  # step 0 ties count as lowest, step 20 breaks the run
    assert dynamics.first_lowest_step(ROWS, 3) is None
    assert abs(dynamics.mean_stop_step([0.5, 0.25, 0.125, 0.125]) - 1.875) < 1e-12


def test_report_explains_with_the_numbers_of_the_rows(tmp_path):
    report = dynamics.render({"paper": ENTRY}, str(tmp_path / "dynamics"))
    assert "From step 30 on, step 1 has the lowest cross-entropy" in report
    assert "from step 30 on β_1 ≥ 0.9" in report
    assert "the largest |gate logit| 40.0 (step 0: 0.10) and the gate gradient norm 1.00e-09" in report
    assert "| 40 | (1.000, 0.000, 0.000, 0.000) | (1.300, 3.000, 5.000, 9.000) |" in report
    paths = dynamics.write_charts({"paper": ENTRY}, str(tmp_path / "dynamics"))
    assert paths == [str(tmp_path / "dynamics_paper.png")]
