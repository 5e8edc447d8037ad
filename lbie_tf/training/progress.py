"""A one-line console progress bar with throughput and ETA for the training loop.

    step 120/3000 [#.......................] 812.3 images/s  ETA 3m12s  loss 0.4213 iou 0.512
"""

from __future__ import annotations

import collections
import numbers
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

_BAR_WIDTH = 24


class ProgressBar:
    """Shows the training progress on one line: rewritten in place on a terminal, repeated in a log file.

    Throughput is measured over the last `window_s` seconds of updates, starting at the first update, so
    the first step (tracing and compilation) is never counted.

    Args:
        total_steps: step number at which training ends.
        images_per_step: global batch size (images over all replicas per step).
        stream: where to write (default stderr).
        min_interval_s: on a terminal, the line is redrawn at most this often.
        now: clock in seconds (injectable for tests).
        log_interval_s: when `stream` is not a terminal, a plain line is written at most this often.
        window_s: length of the sliding window over which images/s is measured.
        is_tty: overrides `stream.isatty()`.
    """

    def __init__(self, total_steps: int, images_per_step: int, stream: TextIO | None = None,
                 min_interval_s: float = 0.5, now: Callable[[], float] = time.monotonic,
                 log_interval_s: float = 30.0, window_s: float = 20.0, is_tty: bool | None = None):
        self.total_steps = total_steps
        self.images_per_step = images_per_step
        self.stream = sys.stderr if stream is None else stream
        self.min_interval_s = min_interval_s
        self.now = now
        self.log_interval_s = log_interval_s
        self.window_s = window_s
        self.is_tty = self.stream.isatty() if is_tty is None else is_tty
        self._samples: collections.deque[tuple[float, int]] = collections.deque()  # (time, step)
        self._line = ""
        self._line_written = False
        self._last_write: float | None = None
        self._drawn_width = 0

    def update(self, step: int, **scalars: Any) -> None:
        """Records that `step` is done and redraws the line if it is due.

        Args:
            step: the global step just finished.
            **scalars: values shown after the ETA (Python, NumPy or TF scalars), e.g. `loss=0.42`.
        """
        t = self.now()
        self._samples.append((t, int(step)))
        while len(self._samples) > 2 and t - self._samples[1][0] >= self.window_s:
            self._samples.popleft()
        self._line = self.format_line(int(step), scalars)
        self._line_written = False
        interval = self.min_interval_s if self.is_tty else self.log_interval_s
        if self._last_write is None or t - self._last_write >= interval:
            self._write(self._line)
            self._last_write = t

    def close(self) -> None:
        """Writes the last line if it is not shown yet and ends it with a newline; a no-op without updates."""
        if not self._line:
            return
        if not self._line_written:
            self._write(self._line)
        if self.is_tty:
            self.stream.write("\n")
            self.stream.flush()
        self._line = ""

    def images_per_second(self) -> float | None:
        """Throughput over the sliding window; None until two updates have been recorded."""
        if len(self._samples) < 2:
            return None
        (t0, s0), (t1, s1) = self._samples[0], self._samples[-1]
        return (s1 - s0) * self.images_per_step / (t1 - t0) if t1 > t0 else None

    def format_line(self, step: int, scalars: dict[str, Any]) -> str:
        """The progress line for `step` with the current throughput, ETA and `scalars`."""
        filled = round(_BAR_WIDTH * min(max(step / max(self.total_steps, 1), 0.0), 1.0))
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        rate = self.images_per_second()
        if rate:
            speed = f"{rate:.1f} images/s"
            eta = _format_duration(max(self.total_steps - step, 0) * self.images_per_step / rate)
        else:
            speed, eta = "-- images/s", "--"
        values = " ".join(f"{name} {_format_scalar(value)}" for name, value in scalars.items())
        line = f"step {step}/{self.total_steps} [{bar}] {speed}  ETA {eta}"
        return f"{line}  {values}" if values else line

    def _write(self, line: str) -> None:
        if self.is_tty:
            self.stream.write("\r" + line + " " * max(self._drawn_width - len(line), 0))
            self._drawn_width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._line_written = True


def _format_scalar(value: Any) -> str:
    """4 significant digits for floats, integers as they are."""
    if isinstance(value, numbers.Integral):
        return str(value)
    return f"{float(value):.4g}"


def _format_duration(seconds: float) -> str:
    """1h02m, 3m12s or 45s."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
