# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when missing and install
# the package with its test extra (skipped when setup.py has not changed since the last install).
PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.lbie-installed
DEMO_DIR ?= runs/demo

.PHONY: setup test demo benchmark clean

$(VPY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.py | $(VPY)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

test: setup
	$(VPY) -m pytest -q tests

demo: setup
	rm -rf $(DEMO_DIR)
	$(VPY) train_segmentation.py --flagfile=configs/cosal_demo.cfg --model_dir=$(DEMO_DIR) \
		--figure=$(DEMO_DIR)/figure.png

benchmark: setup
	$(VPY) benchmarks/throughput.py

clean:
	rm -rf $(VENV) runs *.egg-info
