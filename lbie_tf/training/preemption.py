"""Stopping a training run cleanly on the signals schedulers send (SIGTERM: Slurm, Kubernetes, cloud preemption;
SIGINT: Ctrl-C): the current step finishes, a checkpoint is written, one line says so, and the process exits
with the shell's status for that signal (143 / 130), so that the same command resumes exactly."""

from __future__ import annotations

import functools
import signal
import sys

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class TrainingStopped(Exception):
    """Training stopped on a signal after writing a checkpoint; `exit_status` is 128 + the signal number.

    Args:
        signal_number: the signal that stopped it.
        message: one line for the user (what was saved, how to resume).
    """

    def __init__(self, signal_number: int, message: str):
        super().__init__(message)
        self.signal_number = signal_number
        self.exit_status = 128 + signal_number


class StopSignals:
    """While active (a context manager), SIGTERM and SIGINT only set `received` (the signal number); a second
    signal restores the previous handlers and is delivered to them (Ctrl-C twice: stop now, as without this).

    Signal handlers can only be installed in the main thread; elsewhere this does nothing and `received`
    stays None.

    Args:
        log: where the one-line notice of a received signal goes.
    """

    def __init__(self, log=print):
        self.log = log
        self.received: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignals:
        try:
            self._previous = {number: signal.signal(number, self._handle) for number in STOP_SIGNALS}
        except ValueError:  # not the main thread
            self._previous = {}
        return self

    def __exit__(self, *exc) -> None:
        self._restore()

    def _handle(self, number: int, frame) -> None:
        if self.received is not None:
            previous = self._previous.get(number)
            self._restore()
            if callable(previous):
                previous(number, frame)
            else:
                signal.raise_signal(number)
            return
        self.received = number
        self.log(f"received {signal.Signals(number).name}: finishing this step, then saving a checkpoint "
                 f"(send it again to stop at once)")

    def _restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}


def exit_when_stopped(main):
    """Wraps an absl `main(argv)`: a `TrainingStopped` prints its one line on stderr and exits with its status
    (143 for SIGTERM, 130 for SIGINT), as a shell reports a process ended by that signal. The wrapper keeps
    `main`'s name and module (the entry point's `--help` is its module's)."""

    @functools.wraps(main)
    def wrapped(argv):
        try:
            return main(argv)
        except TrainingStopped as stop:
            print(stop, file=sys.stderr, flush=True)
            sys.exit(stop.exit_status)

    return wrapped
