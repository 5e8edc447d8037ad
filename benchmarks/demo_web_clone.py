"""`make demo-web` from a fresh clone, timed until the page answers, then the first edit: where the time goes.

    python3 benchmarks/demo_web_clone.py [--cache_dir=DIR | --cold_cache] [--port=7860] [--out=...]

Runs with the system Python and the standard library only (it runs before any virtual environment exists):
1. `git clone <this checkout> <work_dir>/lbie-tf` (committed files only, as a user's clone; `--rev`: that
   commit checked out);
2. `make demo-web DEMO_FLAGS=--port=<port>` there, every line it prints time-stamped: each recipe line make
   echoes starts a phase (venv, installs, `lbie-demo`), and so does each line `lbie-demo` and Gradio print on
   the way (imports, model load and warm-up, Gradio's start);
3. the page polled until it answers HTTP 200 (`page_s`: from `make` starting, the issue's goal is < 120 s);
4. the first segmentation request, with Gradio's client from the clone's venv: `first_edit_s` (goal < 1 s),
   from submitting the sketch and caption to the result (the event that makes a browser show it, which then
   loads the pictures it shows, in parallel), and `first_edit_downloaded_s`, a second request that also
   downloads every result file one after the other (as `benchmarks/demo_requests.py` measures: the class map,
   overlay, stop steps, figure and each attention mask);
5. make and `lbie-demo` stopped, and, in a second process of the clone's venv, the import times of TensorFlow
   and Gradio (a breakdown only: files are in the OS cache by then).

`--cold_cache` points pip's and uv's caches at empty folders (every wheel downloaded again); `--cache_dir=DIR`
at DIR/pip and DIR/uv (kept: the first run with a new DIR is cold, the next warm); with neither, the user's
caches are used as they are. The caches' sizes before the run are in the result. Writes `<out>.json` and
`<out>.md` (overwritten: pass a per-run `--out`), with the machine's core count and load average (the machine
may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMAND = "python3 benchmarks/demo_web_clone.py"
GOAL_PAGE_S, GOAL_FIRST_EDIT_S = 120.0, 1.0
# Lines that start a phase besides make's echoed recipe lines: what `lbie-demo` (lbie_tf/cli/demo.py) and Gradio
# print on the way to serving the page.
MARKERS = ("lbie-demo:", "* Running on")
FIRST_EDIT = """
import sys, time
from gradio_client import Client, handle_file
from lbie_tf.cli.cosal_example import write_example
from lbie_tf.cli.edit import edits_from_text_file
from lbie_tf.demo.models import shipped_segmenters
for index, download in ((3, False), (4, True)):
    (edit,) = edits_from_text_file(write_example(f"{sys.argv[2]}/{index}", index), f"{sys.argv[2]}/{index}")
    client = Client(sys.argv[1], verbose=False, download_files=download)
    start = time.perf_counter()
    client.submit(shipped_segmenters()[0], None, handle_file(edit.image_path), ". ".join(edit.sentences),
                  api_name="/segment").result(timeout=600)
    print(round(time.perf_counter() - start, 3))
"""
IMPORTS = """
import time
for module in ("numpy", "tensorflow", "keras", "gradio"):
    start = time.perf_counter()
    __import__(module)
    print(module, round(time.perf_counter() - start, 2))
"""


def phases(lines: list[tuple[float, str]], page_s: float) -> list[dict]:
    """Splits time-stamped output lines into phases: each command line make echoes for a recipe
    (`is_recipe_line`) or a `MARKERS` line starts one, named by that line, which lasts until the next one
    starts; the last lasts until `page_s`.

    Args:
        lines: `(seconds since make started, line)` in order.
        page_s: when the page answered.
    """
    starts = [(0.0, "make demo-web starts")]
    starts += [(seconds, line.strip()) for seconds, line in lines
               if seconds <= page_s and (line.strip().startswith(MARKERS) or is_recipe_line(line.strip()))]
    ends = [seconds for seconds, _ in starts[1:]] + [page_s]
    return [{"phase": name, "start_s": round(start, 1), "seconds": round(end - start, 1)}
            for (start, name), end in zip(starts, ends)]


def is_recipe_line(text: str) -> bool:
    """Whether `text` is a command line make echoed (the Makefile's recipes run Python, uv, pip or touch)."""
    first = text.split(" ", 1)[0]
    return first.endswith(("/python", "/python3", "/pip", "/uv")) or first in ("python3", "touch", "uv")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def folder_mb(path: str) -> float:
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, name)) for name in files
                     if not os.path.islink(os.path.join(root, name)))
    return round(total / 2**20, 1)


def measure(work_dir: str, port: int, cache_dir: str | None, timeout_s: float, rev: str = "HEAD") -> dict:
    """Clones, runs `make demo-web` until the page answers, edits once; returns the result (`markdown`)."""
    clone = os.path.join(work_dir, "lbie-tf")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # each line as it is printed
    if cache_dir:
        env["PIP_CACHE_DIR"], env["UV_CACHE_DIR"] = os.path.join(cache_dir, "pip"), os.path.join(cache_dir, "uv")
    caches = {name: env.get(name, os.path.expanduser(default)) for name, default in
              (("PIP_CACHE_DIR", "~/.cache/pip"), ("UV_CACHE_DIR", "~/.cache/uv"))}
    cache_mb_before = {name: folder_mb(path) for name, path in caches.items()}
    load_before = os.getloadavg()[0]
    start = time.monotonic()
    subprocess.run(["git", "clone", "--quiet", REPO, clone], check=True)
    subprocess.run(["git", "-C", clone, "checkout", "--quiet", rev], check=True)
    clone_s = time.monotonic() - start
    url = f"http://127.0.0.1:{port}/"
    make = subprocess.Popen(["make", "demo-web", f"DEMO_FLAGS=--port={port}"], cwd=clone, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    start = time.monotonic()
    lines: list[tuple[float, str]] = []
    printed: queue.Queue = queue.Queue()

    def read() -> None:
        for line in make.stdout:
            lines.append((time.monotonic() - start, line.rstrip("\n")))
            printed.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    page_s = first_edit_s = downloaded_s = None
    try:
        while time.monotonic() - start < timeout_s and make.poll() is None:
            while not printed.empty():
                sys.stdout.write(f"[{time.monotonic() - start:6.1f} s] {printed.get()}")
            if answers(url):
                page_s = time.monotonic() - start
                break
            time.sleep(0.25)
        if page_s is None:
            raise RuntimeError(f"make demo-web: no page within {timeout_s:g} s (status {make.poll()}):\n"
                               + "\n".join(line for _, line in lines[-30:]))
        venv_python = os.path.join(clone, ".venv", "bin", "python")
        edit = subprocess.run([venv_python, "-c", FIRST_EDIT, url, os.path.join(work_dir, "example")], cwd=clone,
                              capture_output=True, text=True, check=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        first_edit_s, downloaded_s = map(float, edit.stdout.split()[-2:])
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGTERM)
        try:
            make.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    imports = subprocess.run([venv_python, "-c", IMPORTS], cwd=clone, capture_output=True, text=True, check=True,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}).stdout.split()
    return {"cores": os.cpu_count(), "load_average_before": round(load_before, 1),
            "load_average_after": round(os.getloadavg()[0], 1), "caches": caches,
            "cache_mb_before": cache_mb_before, "cache_mb_after": {name: folder_mb(path) for name, path in
                                                                   caches.items()},
            "pythondontwritebytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
            "clone_s": round(clone_s, 1), "page_s": round(page_s, 1),
            "first_edit_s": first_edit_s, "first_edit_downloaded_s": downloaded_s, "phases": phases(lines, page_s),
            "imports_s": {name: float(seconds) for name, seconds in zip(imports[::2], imports[1::2])},
            "venv_mb": folder_mb(os.path.join(clone, ".venv")),
            "commit": subprocess.run(["git", "-C", clone, "rev-parse", "--short", "HEAD"], capture_output=True,
                                     text=True).stdout.strip()}


def markdown(result: dict) -> str:
    met = lambda seconds, goal: "met" if seconds < goal else "not met"
    before = result["cache_mb_before"]
    cache = ("cold (pip's and uv's caches empty)" if not any(before.values()) else
             "warm (" + ", ".join(f"{name} {mb} MB" for name, mb in before.items()) + ")")
    rows = [f"| {p['start_s']} | {p['seconds']} | `{p['phase']}` |" for p in result["phases"]]
    imports = ", ".join(f"{name} {seconds} s" for name, seconds in result["imports_s"].items())
    return "\n".join([
        "# `make demo-web` from a fresh clone",
        "",
        f"Written by `{result['command']}` (benchmarks/demo_web_clone.py), commit {result['commit']}: `git clone`,"
        " then `make demo-web` timed until the page answers HTTP 200 on 127.0.0.1, then one edit through Gradio's "
        "client.",
        "",
        f"Machine: {result['cores']} cores, shared; load average {result['load_average_before']} before, "
        f"{result['load_average_after']} after. Download caches before the run: {cache}. PYTHONDONTWRITEBYTECODE "
        f"{'set' if result.get('pythondontwritebytecode') else 'unset'}.",
        "",
        "| measurement | seconds | goal |",
        "| --- | --- | --- |",
        f"| `make demo-web` to the page answering (install included) | {result['page_s']} | < 120: "
        f"{met(result['page_s'], GOAL_PAGE_S)} |",
        f"| first edit: submitted to its result | {result['first_edit_s']} | < 1: "
        f"{met(result['first_edit_s'], GOAL_FIRST_EDIT_S)} |",
        f"| the next edit, with every result file downloaded one after the other | "
        f"{result['first_edit_downloaded_s']} | |",
        f"| `git clone` (before make, not counted) | {result['clone_s']} | |",
        "",
        "Where the time goes (each phase from the line make or `lbie-demo` printed to the next):",
        "",
        "| starts at (s) | seconds | phase |",
        "| --- | --- | --- |",
        *rows,
        "",
        f"Imports afterwards, in a second process (files in the OS cache): {imports}. The venv: "
        f"{result['venv_mb']} MB.",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    caches = parser.add_mutually_exclusive_group()
    caches.add_argument("--cold_cache", action="store_true", help="pip's and uv's caches in empty folders")
    caches.add_argument("--cache_dir", help="pip's and uv's caches in DIR/pip and DIR/uv (kept)")
    parser.add_argument("--rev", default="HEAD", help="the commit to check out in the clone (e.g. the one before a "
                        "change, to measure both under the same load)")
    parser.add_argument("--port", type=int, default=7860, help="the port lbie-demo serves on")
    parser.add_argument("--timeout_s", type=float, default=1200, help="give up when no page answers by then")
    parser.add_argument("--work_dir", help="where to clone (default: a temporary folder, removed afterwards)")
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "results", "demo_web_clone"),
                        help="output path without extension (.json and .md)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lbie-demo-web-") as folder:
        work_dir = args.work_dir or folder
        os.makedirs(work_dir, exist_ok=True)
        cache_dir = os.path.join(folder, "caches") if args.cold_cache else args.cache_dir
        result = measure(work_dir, args.port, cache_dir and os.path.abspath(cache_dir), args.timeout_s,
                         args.rev)
    result["command"] = " ".join([COMMAND, *sys.argv[1:]])
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(f"{args.out}.json", "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    with open(f"{args.out}.md", "w", encoding="utf-8") as f:
        f.write(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
