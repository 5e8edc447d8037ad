"""`lbie-demo` in a process of its own, as a user starts it (for the browser tests and the request benchmark):
a free loopback port, the process, and the wait until the page answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from lbie_tf.demo.server import HOST

POLL_S = 0.25


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_demo_process(port: int, log_path: str, flags: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str]:
    """Starts `python -m lbie_tf.cli.demo --port=<port> <flags>`; returns `(process, url)`.

    Args:
        port: a free port (`free_loopback_port`).
        log_path: file for the process's stdout and stderr.
        flags: more `lbie-demo` flags.
    """
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen([sys.executable, "-m", "lbie_tf.cli.demo", f"--port={port}", *flags],
                                   stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return process, f"http://{HOST}:{port}/"


def wait_until_answering(url: str, process: subprocess.Popen, timeout_s: float) -> float:
    """Waits until `url` answers HTTP 200; returns the seconds waited. `RuntimeError` when the process exits
    first or `timeout_s` passes."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"lbie-demo exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(POLL_S)
    raise RuntimeError(f"lbie-demo did not answer within {timeout_s:g} s")
