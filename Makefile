# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when missing and install
# the package with its test extra (skipped when setup.py has not changed since the last install).
PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.lbie-installed
DEMO_DIR ?= runs/demo

.PHONY: setup test test-all test-slow lint demo benchmark clean

$(VPY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.py | $(VPY)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# `make test`: the suite without the long end-to-end trainings (marked slow); `make test-all`: everything.
test: setup
	$(VPY) -m pytest -q -n auto --dist worksteal -m "not slow" tests

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

benchmark: setup
	$(VPY) -m benchmarks.throughput

clean:
	rm -rf $(VENV) runs *.egg-info
