# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when missing and install
# the package with its test extra (skipped when setup.py has not changed since the last install).
# `make demo-web`: the same with the demo extra too (one install of both), then the lbie-demo web page on
# http://127.0.0.1:7860/.
# `make test-browser`: the tests that start the web page (a headless system Chromium: Debian's `chromium`),
# failing instead of skipping when Chromium or the demo extra is missing; .ci/run calls it.
# Installs run with uv (pinned, from PyPI, into .venv itself): it installs the wheels in parallel and leaves the
# bytecode to Python, which writes it for what it imports; where Python may not (PYTHONDONTWRITEBYTECODE is
# set), uv compiles every file at install instead. uv reads its own settings (UV_DEFAULT_INDEX, uv.toml), not
# pip.conf: `make ... USE_PIP=1` installs with pip instead.
PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.8
STAMP := $(VENV)/.lbie-installed
DEMO_STAMP := $(VENV)/.lbie-demo-installed
DEMO_DIR ?= runs/demo
DEMO_FLAGS ?=
TEST_MARKS ?= not slow
ifeq ($(USE_PIP),1)
INSTALLER := $(VPY)
INSTALL := $(VPY) -m pip install --quiet
else
INSTALLER := $(UV)
INSTALL := $(UV) pip install --quiet --python $(VPY)$(if $(PYTHONDONTWRITEBYTECODE), --compile-bytecode)
endif

.PHONY: setup setup-demo test test-all test-slow test-browser lint demo demo-web benchmark clean

$(VPY):
	$(PYTHON) -m venv $(VENV)

$(UV): | $(VPY)
	$(VPY) -m pip install --quiet uv==$(UV_VERSION)

$(STAMP): setup.py | $(INSTALLER)
	$(INSTALL) -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Not after $(STAMP): from a fresh clone, one resolve and one install of both extras.
$(DEMO_STAMP): setup.py | $(INSTALLER)
	$(INSTALL) -e '.[test,demo]'
	touch $(STAMP) $(DEMO_STAMP)

setup-demo: $(DEMO_STAMP)

# `make test`: the suite without the long end-to-end trainings (marked slow); `make test-all`: everything.
test: setup
	$(VPY) -m pytest -q -n auto --dist worksteal -m "$(TEST_MARKS)" tests

test-browser: setup-demo
	LBIE_REQUIRE_BROWSER=1 $(VPY) -m pytest -q -p no:xdist -m browser tests/demo

test-slow: setup
	$(VPY) -m pytest -q -n auto --dist worksteal -m slow tests

test-all: setup
	$(VPY) -m pytest -q -n auto --dist worksteal tests

lint: setup
	$(VPY) -m ruff check .

demo: setup
	rm -rf $(DEMO_DIR)
	$(VPY) train_segmentation.py --flagfile=configs/cosal_demo.cfg --model_dir=$(DEMO_DIR) \
		--figure=$(DEMO_DIR)/figure.png
	@echo "--- the pretrained model shipped with the package, on a sketch it has never seen:"
	$(VPY) -m lbie_tf.cli.cosal_example --out_dir=$(DEMO_DIR)/example --index=1
	$(VPY) -m lbie_tf.cli.edit --text_file=$(DEMO_DIR)/example/cosal_pairs.txt --out=$(DEMO_DIR)/example --explain

demo-web: setup-demo
	$(VPY) -m lbie_tf.cli.demo $(DEMO_FLAGS)

benchmark: setup
	$(VPY) -m benchmarks.throughput

clean:
	rm -rf $(VENV) runs *.egg-info
