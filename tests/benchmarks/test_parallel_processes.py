"""benchmarks.parallel_processes: the rate it reads from benchmarks.throughput's output."""

import pytest

from benchmarks import parallel_processes


def test_parse_rate_reads_the_training_line_not_the_generation_line():
    output = "generate cosal batch=64: 5400.0 images/s\ntrain cosal_paper_t4 batch=64: 281.5 images/s\n"
    assert parallel_processes.parse_rate(output) == 281.5


def test_parse_rate_without_a_training_line_says_what_was_printed():
    with pytest.raises(RuntimeError, match="printed no training rate"):
        parallel_processes.parse_rate("Traceback (most recent call last):\n  ...\n")


def test_throughput_command_times_only_our_step():
    command = parallel_processes.throughput_command(64, 100, 15, 2)
    assert "--noport" in command and "--batch_sizes=64" in command
