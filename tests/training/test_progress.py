"""Tests of the console progress bar with a fake clock."""

import io

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.training.progress import ProgressBar


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def make_bar(tty, **kwargs):
    stream, clock = io.StringIO(), FakeClock()
    return ProgressBar(kwargs.pop("total_steps", 100), kwargs.pop("images_per_step", 8), stream=stream,
                       now=clock, is_tty=tty, **kwargs), stream, clock


def test_rate_excludes_the_first_step_and_gives_the_eta():
    bar, stream, clock = make_bar(tty=False, log_interval_s=0.0)
    clock.t = 30.0  # step 1 took 30 s to compile: not counted
    bar.update(1, loss=0.5)
    assert bar.images_per_second() is None
    assert stream.getvalue().splitlines()[-1].startswith("step 1/100 [")
    assert "-- images/s  ETA --  loss 0.5" in stream.getvalue()
    clock.t = 32.0
    bar.update(11, loss=0.421349, iou=0.512)  # 10 steps × 8 images in 2 s
    assert bar.images_per_second() == pytest.approx(40.0)
    line = stream.getvalue().splitlines()[-1]
    # 89 steps left at 5 steps/s → 17.8 s
    assert line == "step 11/100 [###.....................] 40.0 images/s  ETA 18s  loss 0.4213 iou 0.512"


def test_sliding_window_follows_a_change_of_speed():
    bar, _, clock = make_bar(tty=False, total_steps=10_000, images_per_step=1, window_s=10.0)
    for step in range(1, 101):  # 10 steps/s
        clock.t = step * 0.1
        bar.update(step)
    for step in range(101, 1601):  # then 100 steps/s for 15 s, longer than the window
        clock.t = 10.0 + (step - 100) * 0.01
        bar.update(step)
    assert bar.images_per_second() == pytest.approx(100.0)


def test_tty_rewrites_one_line_at_most_every_min_interval():
    bar, stream, clock = make_bar(tty=True, min_interval_s=0.5)
    for step in range(1, 11):
        clock.t = step * 0.1
        bar.update(step, loss=np.float32(0.25), count=np.int64(7))
    out = stream.getvalue()
    assert "\n" not in out
    assert out.count("\r") == 2  # at t = 0.1 and 0.6; t = 1.0 is too early
    assert "count 7" in out and "loss 0.25" in out
    bar.close()
    assert stream.getvalue().endswith("\n")
    assert stream.getvalue().rstrip("\n").split("\r")[-1].startswith("step 10/100 [##")


def test_tty_pads_a_shorter_line_over_a_longer_one():
    bar, stream, clock = make_bar(tty=True, min_interval_s=0.0)
    bar.update(1, loss=123.456789)
    clock.t = 1.0
    bar.update(2)
    first, second = stream.getvalue().split("\r")[1:]
    assert len(second) == len(first)


def test_log_file_gets_plain_lines_every_log_interval():
    bar, stream, clock = make_bar(tty=False, log_interval_s=30.0)
    for step in range(1, 101):
        clock.t = step  # one step per second
        bar.update(step, loss=tf.constant(0.125))
    lines = stream.getvalue().splitlines()
    assert [line.split(" ")[1] for line in lines] == ["1/100", "31/100", "61/100", "91/100"]
    assert lines[-1].endswith("ETA 9s  loss 0.125")
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 5 and lines[-1].startswith("step 100/100 [########################] 8.0 images/s")
    bar.close()  # a second close writes nothing
    assert len(stream.getvalue().splitlines()) == 5


def test_close_without_updates_writes_nothing():
    bar, stream, _ = make_bar(tty=True)
    bar.close()
    assert stream.getvalue() == ""


def test_long_eta_is_shown_in_hours():
    bar, stream, clock = make_bar(tty=False, total_steps=100_000, images_per_step=1, log_interval_s=0.0)
    bar.update(1)
    clock.t = 1.0
    bar.update(11)  # 10 steps/s, 99,989 steps left → 2 h 46 m 39 s
    assert "ETA 2h46m" in stream.getvalue().splitlines()[-1]
