"""The fresh-clone `make demo-web` benchmark's pure parts: which printed lines start a phase, the phases' lengths
and the page (no clone, no install)."""

from benchmarks.demo_web_clone import is_recipe_line, markdown, phases

LINES = [
    (0.1, "python3 -m venv .venv"),
    (4.0, ".venv/bin/python -m pip install --quiet -e '.[test,demo]'"),
    (30.0, "  Downloading a progress line that is not a command"),
    (90.0, "touch .venv/.lbie-installed"),
    (90.1, ".venv/bin/python -m lbie_tf.cli.demo --port=7860"),
    (100.0, "lbie-demo: loading cosal_best"),
    (104.0, "* Running on local URL:  http://127.0.0.1:7860"),
    (200.0, "lbie-demo: a line after the page answered"),
]


def test_recipe_lines_are_the_makefiles_commands():
    assert is_recipe_line(".venv/bin/python -m pip install -e .")
    assert is_recipe_line("/tmp/x/.venv/bin/uv pip install -e .") and is_recipe_line("python3 -m venv .venv")
    assert not is_recipe_line("Successfully installed tensorflow-2.21.0")
    assert not is_recipe_line("WARNING: pythonic")


def test_each_phase_lasts_until_the_next_starts_and_the_last_until_the_page():
    got = phases(LINES, page_s=105.0)
    assert [p["phase"] for p in got] == [
        "make demo-web starts", "python3 -m venv .venv", ".venv/bin/python -m pip install --quiet -e '.[test,demo]'",
        "touch .venv/.lbie-installed", ".venv/bin/python -m lbie_tf.cli.demo --port=7860",
        "lbie-demo: loading cosal_best", "* Running on local URL:  http://127.0.0.1:7860"]
    assert [p["seconds"] for p in got] == [0.1, 3.9, 86.0, 0.1, 9.9, 4.0, 1.0]
    assert sum(p["seconds"] for p in got) == 105.0


def test_page_says_whether_each_goal_is_met():
    result = {"command": "python3 benchmarks/demo_web_clone.py", "commit": "abc1234", "cores": 2,
              "load_average_before": 4.0, "load_average_after": 3.5, "clone_s": 0.4,
              "cache_mb_before": {"PIP_CACHE_DIR": 0.0, "UV_CACHE_DIR": 0.0},
              "page_s": 130.2, "first_edit_s": 0.41, "first_edit_downloaded_s": 1.2, "phases": phases(LINES, 105.0),
              "imports_s": {"tensorflow": 6.1}, "venv_mb": 2100.0}
    page = markdown(result)
    assert "| 130.2 | < 120: not met |" in page and "| 0.41 | < 1: met |" in page
    assert "cold (pip's and uv's caches empty)" in page and "tensorflow 6.1 s" in page
