"""The fault benchmark's pure parts: the kill plan, steps lost per kill, the headline figures, the page and the
figure, on a small hand-made report (no training)."""

import pytest
from PIL import Image

from benchmarks import faults_report
from benchmarks.faults import kill_plan, steps_lost


def test_kill_plan_is_seeded_and_has_every_kind():
    plan = kill_plan(0, sigkills=20, during_write=6, during_startup=3, sigterms=5)
    assert plan == kill_plan(0, 20, 6, 3, 5) != kill_plan(1, 20, 6, 3, 5)
    assert {kind: plan.count(kind) for kind in set(plan)} == {
        "sigkill_write": 6, "sigkill_startup": 3, "sigkill_step": 11, "sigterm": 5}
    with pytest.raises(ValueError, match="more than the 2"):
        kill_plan(0, sigkills=2, during_write=2, during_startup=1, sigterms=0)


def test_steps_lost_counts_from_the_last_finished_step_to_the_next_resume():
    runs = [
        {"start_step": 0, "last_step": 37, "checkpoint_before": 0},        # SIGKILL: checkpoint 25 survives
        {"start_step": None, "last_step": None, "checkpoint_before": 25},  # killed during start-up
        {"start_step": 25, "last_step": 31, "checkpoint_before": 25},      # SIGTERM after step 31
        {"start_step": 31, "last_step": 50, "checkpoint_before": 31},      # the run to the end
    ]
    assert steps_lost(runs) == [12, 0, 0]


def _kill(kind, signal, start, last, lost, status, checkpoints, leftovers=()):
    return {"kind": kind, "signal": signal, "started_seconds": 0.0, "at_seconds": 10.0 + last,
            "exit_status": status, "start_step": start, "last_step": last, "checkpoint_before": start,
            "steps_lost": lost, "diagnostics": [], "new_write_leftovers": list(leftovers),
            "after": {"checkpoints": checkpoints, "corrupt": [], "state_names": checkpoints[-1],
                      "state_names_a_complete_checkpoint": True, "write_leftovers": list(leftovers),
                      "lock_left": signal == "SIGKILL"}}


def report():
    runs = [_kill("sigkill_write", "SIGKILL", 0, 10, 5, -9, [5], ["ckpt-10.tmp-1a2b3c4d"]),
            _kill("sigterm", "SIGTERM", 5, 7, 0, 143, [5, 7]),
            {**_kill("sigkill_step", "SIGKILL", 7, 20, 0, 0, [15, 20]), "kind": "to the end", "signal": None}]
    return {
        "command": "nice -n 15 python -m benchmarks.faults --train_steps=20", "benchmark_seconds": 99.0,
        "training_command": "python -m benchmarks.step_logged_training --train_steps=20 --model_dir=DIR",
        "settings": {"seed": 0, "train_steps": 20, "checkpoint_every": 5, "batch_size": 8,
                     "preset": "configs/cosal_demo.cfg", "cpu_cores": 2},
        "interrupted": {"runs": runs, "timelines": [[[1.0, 1], [9.0, 10]], [[12.0, 6], [14.0, 7]],
                                                    [[20.0, 8], [30.0, 20]]]},
        "uninterrupted": {"exit_status": 0, "last_step": 20, "seconds": 25.0, "timeline": [[2.0, 1], [25.0, 20]],
                          "diagnostics": []},
        "final_weights": {"variables": 3, "differing": [], "largest_difference": 0.0, "same_variable_names": True,
                          "bit_identical": True},
        "disk_full": {"run": False, "why": "mount -t tmpfs failed: permission denied"},
        "two_trainings": {"second_exit_status": 2, "second_diagnostics": ["error: model_dir X is in use by pid 1"],
                          "second_trained": False, "first_still_running": True, "first_exit_status": 143},
        "damages": [{"damage": "newest index missing", "expected": "resumed from step 15",
                     "outcome": "resumed from step 15", "exit_status": 0, "traceback": False, "ok": True,
                     "diagnostics": ["model_dir X: checkpoint ckpt-20 is damaged (ckpt.index is missing); trying "
                                     "ckpt-15"]}],
    }


def test_summary_counts_survived_kills_and_losses():
    s = faults_report.summary(report())
    assert (s["sigkills"], s["sigterms"], s["survived"], s["finished"]) == (1, 1, 2, True)
    assert (s["sigkill_lost_max"], s["sigterm_lost_max"], s["killed_mid_write"]) == (5, 0, 1)
    assert (s["corrupt_checkpoints"], s["bit_identical"], s["damages_ok"]) == (0, True, 1)


def test_a_sigkill_losing_more_than_an_interval_or_a_corrupt_checkpoint_is_not_survived():
    every = 5
    kill = _kill("sigkill_step", "SIGKILL", 0, 12, 6, -9, [5])
    assert not faults_report.survived(kill, every)
    kill = _kill("sigkill_step", "SIGKILL", 0, 7, 2, -9, [5])
    kill["after"]["corrupt"] = [5]
    assert not faults_report.survived(kill, every)
    assert not faults_report.survived(_kill("sigterm", "SIGTERM", 0, 7, 1, 143, [5]), every)


def test_render_and_figure(tmp_path):
    page = faults_report.render(report(), "faults.png")
    assert "| interruptions survived (training finished at step 20) | 2 of 2 (1 SIGKILL, 1 SIGTERM) |" in page
    assert "![steps over wall time" in page and "Not run: mount -t tmpfs failed" in page
    assert "`error: model_dir X is in use by pid 1`" in page
    assert "| newest index missing | resumed from step 15 | resumed from step 15 |" in page
    path = faults_report.write_figure(report(), str(tmp_path / "faults.png"))
    assert Image.open(path).size == (1000, 780)
